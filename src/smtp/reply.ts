// SMTP replies as values: a code, an enhanced status code (RFC 3463/5248) and text lines.
// Every reply the server sends is built by a named constructor here, so this file shows all of
// the server's words. Serialising to the wire is `formatReply`; nothing here touches a socket.

/** A reply to send: three-digit code, optional enhanced code, one or more text lines. */
export interface Reply {
  readonly code: number;
  /** `class.subject.detail`, e.g. `5.5.1`; absent only for the greeting and HELO/EHLO replies. */
  readonly enhancedCode?: string;
  readonly lines: readonly string[];
}

/** Builds a reply value; `text` may hold several lines. */
export function reply(code: number, enhancedCode: string | undefined, ...text: string[]): Reply {
  return { code, enhancedCode, lines: text.length > 0 ? text : [''] };
}

/** Serialises a reply as CRLF-terminated wire lines, repeating the enhanced code on each line. */
export function formatReply(r: Reply): string {
  const prefix = r.enhancedCode ? `${r.enhancedCode} ` : '';
  // RFC 4954 4: a SASL challenge is "334" SP [base64], the space kept even when the challenge is empty.
  const trim = (line: string) => (r.code === 334 ? line : line.trimEnd());
  return r.lines
    .map((line, i) => trim(`${r.code}${i === r.lines.length - 1 ? ' ' : '-'}${prefix}${line}`) + '\r\n')
    .join('');
}

/** Tells whether a reply is a positive completion or intermediate (2xx/3xx). */
export function isPositive(r: Reply): boolean {
  return r.code < 400;
}

/** Tells whether a reply is a transient failure (4xx). */
export function isTransient(r: Reply): boolean {
  return r.code >= 400 && r.code < 500;
}

/** The replies the receiving server sends, by situation. */
export const replies = {
  greeting: (host: string) => reply(220, undefined, `${host} ESMTP mta`),
  helo: (host: string, client: string) => reply(250, undefined, `${host} Hello ${client}`),
  ehlo: (host: string, client: string, keywords: readonly string[]) =>
    reply(250, undefined, `${host} Hello ${client}`, ...keywords),
  ok: () => reply(250, '2.0.0', 'OK'),
  senderOk: () => reply(250, '2.1.0', 'Sender OK'),
  recipientOk: () => reply(250, '2.1.5', 'Recipient OK'),
  resetOk: () => reply(250, '2.0.0', 'Reset OK'),
  noopOk: () => reply(250, '2.0.0', 'OK'),
  quit: (host: string) => reply(221, '2.0.0', `${host} closing connection`),
  help: () =>
    reply(
      214,
      '2.0.0',
      'Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP',
      'See RFC 5321 for details',
    ),
  startData: () => reply(354, undefined, 'End data with <CR><LF>.<CR><LF>'),
  queued: (queueId: string) => reply(250, '2.0.0', `OK: queued as ${queueId}`),
  chunkOk: (bytes: number) => reply(250, '2.0.0', `${bytes} octets received`),
  // RFC 5321 3.5.3 and 7.3: the answer to VRFY of a server that will not tell who exists.
  cannotVerify: () => reply(252, '2.5.0', 'Cannot VRFY user, but will accept message and attempt delivery'),

  unknownCommand: () => reply(500, '5.5.2', 'Error: command not recognized'),
  lineTooLong: () => reply(500, '5.5.2', 'Error: line too long'),
  badUtf8: () => reply(500, '5.5.2', 'Error: bad UTF-8 syntax'),
  controlCharacter: () => reply(500, '5.5.2', 'Error: bad syntax: control character in command'),
  syntax: (detail: string) => reply(501, '5.5.4', `Syntax error: ${detail}`),
  badAddress: (detail: string) => reply(501, '5.1.3', `Bad address syntax: ${detail}`),
  badSenderAddress: (detail: string) => reply(501, '5.1.7', `Bad sender address syntax: ${detail}`),
  notImplemented: (verb: string) => reply(502, '5.5.1', `Error: ${verb} is not supported`),
  badSequence: (detail: string) => reply(503, '5.5.1', `Error: ${detail}`),
  unknownParameter: (name: string) => reply(555, '5.5.4', `Unsupported parameter: ${name}`),
  badParameterValue: (name: string) => reply(501, '5.5.4', `Bad value for parameter: ${name}`),
  conflictingParameter: (name: string) => reply(501, '5.5.4', `Conflicting values for parameter: ${name}`),
  utf8NeedsSmtputf8: () => reply(553, '5.6.7', 'Non-ASCII address requires SMTPUTF8'),
  tooManyRecipients: (max: number) => reply(452, '4.5.3', `Too many recipients (max ${max})`),
  noSuchUser: (address: string) => reply(550, '5.1.1', `<${address}>: Recipient address rejected: user unknown`),
  relayDenied: () => reply(554, '5.7.1', 'Relay access denied'),
  // RFC 3463 X.4.6: routing loop detected; the aliases file refuses loops at load, so this is a last guard.
  aliasLoop: (address: string, chain: readonly string[]) => reply(550, '5.4.6', `<${address}>: Recipient address rejected: alias loop (${chain.join(' -> ')})`),
  // RFC 7372 4.2: 5.7.25 for a client whose reverse DNS is missing or does not confirm.
  reverseDnsMissing: (ip: string) => reply(550, '5.7.25', `Client host rejected: cannot find your reverse hostname, [${ip}]`),
  reverseDnsUnconfirmed: (ip: string, name: string) =>
    reply(550, '5.7.25', `Client host rejected: your reverse hostname ${name} does not resolve to [${ip}]`),
  reverseDnsTemporaryFailure: (ip: string) => reply(450, '4.7.25', `Client host rejected: cannot find your reverse hostname, [${ip}] (DNS failure; try again later)`),
  // The reason is the blocklist's TXT record: text from the network, so printable ASCII only.
  dnsblListed: (ip: string, zone: string, reason: string | undefined) =>
    reply(554, '5.7.1', `Service unavailable; client [${ip}] blocked using ${zone}${reason ? `; ${reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}` : ''}`),
  noDomain: (address: string) => reply(550, '5.1.3', `<${address}>: Recipient address rejected: no domain`),
  // Well-formed SMTP (a quoted or dotted local part) that we will not turn into a path: not 501.
  undeliverableLocalPart: (address: string) => reply(550, '5.1.3', `<${address}>: Recipient address rejected: local part not deliverable`),
  sizeDeclaredTooBig: (max: number) => reply(552, '5.3.4', `Message size exceeds fixed limit of ${max} bytes`),
  messageTooBig: (max: number) => reply(552, '5.3.4', `Message size exceeds fixed limit of ${max} bytes`),
  dataLineTooLong: () => reply(500, '5.5.2', 'Error: message line longer than 1000 octets (RFC 5321 4.5.3.1.6)'),
  bareLineFeed: () => reply(550, '5.6.0', 'Error: bare <LF> or <CR> in message data (RFC 5321 2.3.8)'),
  bareLineFeedInCommand: () => reply(500, '5.5.2', 'Error: bare <LF> received in command (RFC 5321 2.3.8)'),
  insufficientStorage: () => reply(452, '4.3.1', 'Insufficient system storage'),
  localError: () => reply(451, '4.3.0', 'Local error in processing'),

  // STARTTLS (RFC 3207) and submission (RFC 6409, RFC 8314).
  readyToStartTls: () => reply(220, '2.0.0', 'Ready to start TLS'),
  tlsAlreadyActive: () => reply(503, '5.5.1', 'Error: TLS already active'),
  tlsRequired: () => reply(530, '5.7.0', 'Must issue a STARTTLS command first'),
  authRequired: () => reply(530, '5.7.0', 'Authentication required'),

  // AUTH (RFC 4954 6 and 9).
  saslChallenge: (base64: string) => reply(334, undefined, base64),
  authSucceeded: () => reply(235, '2.7.0', 'Authentication successful'),
  authFailed: () => reply(535, '5.7.8', 'Authentication credentials invalid'),
  authNeedsEncryption: () => reply(538, '5.7.11', 'Encryption required for requested authentication mechanism'),
  authTemporaryFailure: () => reply(454, '4.7.0', 'Temporary authentication failure'),
  authLockedOut: () => reply(454, '4.7.0', 'Too many authentication failures from your address; try again later'),
  authMechanismUnknown: () => reply(504, '5.5.4', 'Unrecognized authentication type'),
  authCancelled: () => reply(501, '5.7.0', 'Authentication cancelled'),
  authBadResponse: () => reply(501, '5.5.2', 'Cannot decode response'),
  alreadyAuthenticated: () => reply(503, '5.5.1', 'Error: already authenticated'),
  authInTransaction: () => reply(503, '5.5.1', 'Error: AUTH not permitted during a mail transaction'),
  // Postfix's reject_sender_login_mismatch; a user never sends bounces (the null sender).
  senderNotOwned: (address: string, login: string) => reply(553, '5.7.1', `<${address}>: Sender address rejected: not owned by user ${login}`),
  nullSenderFromUser: () => reply(553, '5.7.1', 'Sender address rejected: the null sender is not allowed for authenticated users'),

  tooManyErrors: (host: string) => reply(421, '4.7.0', `${host} Error: too many errors`),
  tooManyConnections: (host: string) => reply(421, '4.7.0', `${host} Error: too many connections`),
  // Postfix's words for smtpd_client_connection_rate_limit, without the address: the bytes are made once.
  connectionRateExceeded: (host: string) => reply(421, '4.7.0', `${host} Error: too many connections from you`),
  // Postfix's reply to smtpd_client_message_rate_limit, at MAIL.
  tooMuchMail: (address: string) => reply(450, '4.7.1', `Error: too much mail from ${address}`),
  // Postfix's smtpd_min_data_rate ends the session as a timeout does.
  dataTooSlow: (host: string) => reply(421, '4.4.2', `${host} Error: data rate too low`),
  // RFC 5321 3.1: a 554 in place of the greeting; postscreen's pregreet test refuses such clients.
  talkedEarly: (host: string) => reply(554, '5.5.0', `${host} Error: SMTP protocol violation: talking before the greeting`),
  timeout: (host: string) => reply(421, '4.4.2', `${host} Error: timeout exceeded`),
  shuttingDown: (host: string) => reply(421, '4.3.2', `${host} Service shutting down`),
} as const;
