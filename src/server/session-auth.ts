// STARTTLS (RFC 3207) and AUTH (RFC 4954) verbs of the session, the SASL exchange that follows
// AUTH, and the rules they bring to the transaction: submission ports want TLS and a login
// before MAIL (RFC 6409 4.3, RFC 8314), a user sends only as one of their addresses, and an
// authenticated client may relay. The handshake and the password check are actions the listener
// performs; their outcomes come back as events. Nothing here sees a socket or the user database.
import { type Reply, replies } from '../smtp/reply.js';
import {
  decodeSaslLine,
  LOGIN_PASSWORD_PROMPT,
  LOGIN_USERNAME_PROMPT,
  parseLoginAnswer,
  parseMechanism,
  parsePlain,
  SASL_CANCEL,
  SASL_MECHANISMS,
  type SaslMechanism,
} from '../smtp/sasl.js';
import type { AuthVerdict } from './authenticator.js';
import type { SessionAction, SessionState, TlsInfo, VerbHandler, VerbResult } from './session-types.js';

const say = (r: Reply, isError = false): VerbResult => ({ replies: [r], isError });

/** Tells whether AUTH may be used on this connection now: over TLS, or on loopback when allowed (port 25 only). */
function isAuthUsable(s: SessionState): boolean {
  if (s.options.isAuthAvailable !== true) return false;
  if (s.tls !== null) return true;
  return s.mode === 'smtp' && s.options.allowPlaintextAuthOnLoopback === true && s.client.isLoopback === true;
}

/** Tells whether AUTH could be used on this connection at all, after STARTTLS if need be. */
function isAuthPossible(s: SessionState): boolean {
  return isAuthUsable(s) || (s.options.isAuthAvailable === true && s.options.isTlsAvailable === true);
}

/** The EHLO keywords of this extension family for the session as it stands. */
export function securityKeywords(s: SessionState): string[] {
  const keywords: string[] = [];
  if (s.options.isTlsAvailable === true && s.tls === null) keywords.push('STARTTLS');
  if (isAuthUsable(s)) keywords.push(`AUTH ${SASL_MECHANISMS.join(' ')}`);
  return keywords;
}

/** Tells whether MAIL may carry AUTH= (RFC 4954 5): only where AUTH was offered. */
export function isAuthOffered(s: SessionState): boolean {
  return isAuthUsable(s);
}

/** The suffix of the Received WITH protocol (RFC 3848): S for TLS, A for an authenticated client. */
export function protocolSuffix(s: SessionState): string {
  return `${s.tls !== null ? 'S' : ''}${s.auth !== undefined ? 'A' : ''}`;
}

/** Tells whether a path is among the user's addresses: the whole address, or `@domain` for all of it (case-insensitive). */
export function ownsAddress(addresses: readonly string[], path: string): boolean {
  const wanted = path.toLowerCase();
  const domain = wanted.slice(wanted.lastIndexOf('@'));
  return addresses.some((a) => {
    const owned = a.toLowerCase();
    return owned === wanted || (owned.startsWith('@') && owned === domain);
  });
}

/**
 * Refuses MAIL FROM by the port's and the user's rules, or returns undefined: a submission port
 * wants TLS, then a login (530 5.7.0); a user sends only as one of their addresses and never
 * as the null sender (553 5.7.1, Postfix's reject_sender_login_mismatch).
 */
export function checkSender(s: SessionState, reversePath: string): Reply | undefined {
  if (s.mode !== 'smtp' && s.tls === null) return replies.tlsRequired();
  if (s.mode !== 'smtp' && s.auth === undefined) return replies.authRequired();
  if (s.auth === undefined) return undefined;
  if (reversePath === '') return replies.nullSenderFromUser();
  if (!ownsAddress(s.auth.addresses, reversePath)) return replies.senderNotOwned(reversePath, s.auth.login);
  return undefined;
}

/** Tells whether the client may relay to any domain: from relay_networks, or logged in. */
export function mayRelay(s: SessionState): boolean {
  return s.client.mayRelay || s.auth !== undefined;
}

/** Forgets the transaction; an open BDAT message must be thrown away by the listener too. */
function forgetTransaction(s: SessionState): SessionAction[] {
  const isOpen = s.transaction?.chunking?.isOpen === true;
  s.transaction = undefined;
  return isOpen ? [{ kind: 'abort-message' }] : [];
}

const STARTTLS: VerbHandler = (s, args) => {
  if (s.tls !== null) return say(replies.tlsAlreadyActive(), true);
  if (s.options.isTlsAvailable !== true) return say(replies.notImplemented('STARTTLS'), true);
  if (args.trim() !== '') return say(replies.syntax('STARTTLS takes no arguments'), true);
  if (s.phase !== 'ready') return say(replies.badSequence('send HELO/EHLO first'), true);
  const actions = forgetTransaction(s);
  s.awaiting = 'tls';
  return { replies: [replies.readyToStartTls()], actions: [...actions, { kind: 'start-tls' }] };
};

/**
 * The handshake succeeded: everything learnt before it is forgotten (RFC 3207 4.2), so the
 * client starts again with EHLO, and nothing is answered now.
 */
export function onTlsStarted(s: SessionState, tls: TlsInfo): VerbResult {
  s.tls = tls;
  s.phase = 'greeted';
  s.helo = '';
  s.isExtended = false;
  s.transaction = undefined;
  s.auth = undefined;
  s.sasl = undefined;
  return { replies: [] };
}

function checkAuth(s: SessionState): VerbResult | undefined {
  if (!isAuthPossible(s)) return say(replies.notImplemented('AUTH'), true);
  if (s.phase !== 'ready' || !s.isExtended) return say(replies.badSequence('send EHLO first'), true);
  if (s.auth !== undefined) return say(replies.alreadyAuthenticated(), true);
  if (s.transaction) return say(replies.authInTransaction(), true);
  if (isAuthUsable(s)) return undefined;
  // Not offered before TLS: a password must never cross the network in the clear.
  return say(s.mode === 'submission' ? replies.tlsRequired() : replies.authNeedsEncryption(), true);
}

const AUTH: VerbHandler = (s, args) => {
  const refusal = checkAuth(s);
  if (refusal) return refusal;
  const [word = '', initial, ...rest] = args.split(' ');
  if (word === '' || rest.length > 0) return say(replies.syntax('AUTH mechanism [initial-response]'), true);
  const mechanism = parseMechanism(word);
  if (!mechanism) return say(replies.authMechanismUnknown(), true);
  if (initial !== undefined) return mechanism === 'PLAIN' ? plainResponse(s, initial) : loginName(s, initial);
  s.sasl = { mechanism };
  return say(replies.saslChallenge(mechanism === 'PLAIN' ? '' : LOGIN_USERNAME_PROMPT));
};

export const authVerbs: Partial<Record<'STARTTLS' | 'AUTH', VerbHandler>> = { STARTTLS, AUTH };

/** Takes one line of an open SASL exchange: the next step, or the attempt to verify. */
export function onAuthResponse(s: SessionState, line: string): VerbResult {
  const sasl = s.sasl;
  s.sasl = undefined;
  if (!sasl) return say(replies.badSequence('no authentication in progress'), true);
  if (line === SASL_CANCEL) return say(replies.authCancelled());
  if (sasl.mechanism === 'PLAIN') return plainResponse(s, line);
  if (sasl.login === undefined) return loginName(s, line);
  const password = decodeText(line);
  if (password === undefined || password === '') return say(replies.authBadResponse(), true);
  return verify(s, 'LOGIN', sasl.login, password);
}

function decodeText(line: string): string | undefined {
  const bytes = decodeSaslLine(line);
  return bytes === undefined ? undefined : parseLoginAnswer(bytes);
}

function plainResponse(s: SessionState, line: string): VerbResult {
  const bytes = decodeSaslLine(line);
  const plain = bytes === undefined ? undefined : parsePlain(bytes);
  if (!plain) return say(replies.authBadResponse(), true);
  // We act for nobody else: an authorization identity other than the login fails (RFC 4616 2).
  if (plain.authzid !== '' && plain.authzid !== plain.login) return say(replies.authFailed(), true);
  return verify(s, 'PLAIN', plain.login, plain.password);
}

function loginName(s: SessionState, line: string): VerbResult {
  const login = decodeText(line);
  if (login === undefined || login === '') return say(replies.authBadResponse(), true);
  s.sasl = { mechanism: 'LOGIN', login };
  return say(replies.saslChallenge(LOGIN_PASSWORD_PROMPT));
}

function verify(s: SessionState, mechanism: SaslMechanism, login: string, password: string): VerbResult {
  s.awaiting = 'credentials';
  return { replies: [], actions: [{ kind: 'verify-credentials', mechanism, login, password }] };
}

/** Answers the authenticator's verdict: 235, 535 (slowed as failures pile up), or 454. */
export function onCredentialsChecked(s: SessionState, verdict: AuthVerdict): VerbResult {
  switch (verdict.kind) {
    case 'accepted':
      s.auth = { login: verdict.login, addresses: verdict.addresses };
      return say(replies.authSucceeded());
    case 'rejected':
      return { replies: [replies.authFailed()], isError: true, delayMs: verdict.delayMs };
    case 'locked-out':
      return say(replies.authLockedOut(), true);
    case 'unavailable':
      return say(replies.authTemporaryFailure());
  }
}
