// The vocabulary of the pure SMTP session: the events the listener feeds in and the actions it
// must perform. Kept apart from the state machine so that the listener and tests import only this.
import type { Reply } from '../smtp/reply.js';
import type { SaslMechanism } from '../smtp/sasl.js';
import type { AuthVerdict } from './authenticator.js';
import type { BodyType, IncomingEnvelope } from './message-sink.js';

/** What the listener learnt about the client at connect time. */
export interface ClientInfo {
  readonly address: string;
  /** The forward-confirmed PTR name, or null when there is none or lookups are off. */
  readonly ptr: string | null;
  /** Whether the client may relay to non-local domains (relay_networks). */
  readonly mayRelay: boolean;
  /** Why the client is refused (reverse DNS, blocklist), if it is: told at each RCPT but postmaster's. */
  readonly refusal?: Reply;
  /** Tell the refusal instead of the greeting, and close. */
  readonly isRefusedAtConnect?: boolean;
  /** Whether the client connects from a loopback address (auth.allow_plaintext_loopback). @default false */
  readonly isLoopback?: boolean;
}

/**
 * What the listener serves on the port the client connected to: MX service with optional
 * STARTTLS, submission (STARTTLS and AUTH required before MAIL, RFC 6409), or submission over
 * implicit TLS (RFC 8314).
 */
export type ServiceMode = 'smtp' | 'submission' | 'submissions';

/** The negotiated TLS session, for the Received header and the log. */
export interface TlsInfo {
  /** e.g. `TLSv1.3`. */
  readonly protocol: string;
  /** e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
}

/** The port's service and, on an implicit TLS port, the session already negotiated. */
export interface ListenerInfo {
  readonly mode: ServiceMode;
  readonly tls: TlsInfo | null;
}

/** How the message body ended, as the listener observed it. */
export type DataOutcome =
  | { readonly kind: 'stored'; readonly queueId: string }
  | { readonly kind: 'too-big' }
  | { readonly kind: 'bare-linefeed' }
  | { readonly kind: 'line-too-long' }
  | { readonly kind: 'failed'; readonly reply: Reply };

export type SessionEvent =
  /**
   * `hasTalkedEarly`: the client sent bytes before the greeting (RFC 5321 3.1), so it is refused.
   * `listener` defaults to plain MX service without TLS.
   */
  | { readonly type: 'connected'; readonly client: ClientInfo; readonly hasTalkedEarly?: boolean; readonly listener?: ListenerInfo }
  /** A line sent inside an open SASL exchange (after a 334): credentials, never logged. */
  | { readonly type: 'auth-response'; readonly line: string }
  /** The TLS handshake asked for by `start-tls` completed. */
  | { readonly type: 'tls-started'; readonly tls: TlsInfo }
  | { readonly type: 'credentials-checked'; readonly verdict: AuthVerdict }
  | { readonly type: 'line'; readonly line: string }
  | { readonly type: 'line-too-long' }
  | { readonly type: 'bare-linefeed' }
  | { readonly type: 'recipient-checked'; readonly refusal: Reply | undefined }
  /** The answer to `count-message`: the refusal when the client is over max_message_rate. */
  | { readonly type: 'message-counted'; readonly refusal: Reply | undefined }
  | { readonly type: 'message-opened'; readonly queueId: string }
  | { readonly type: 'message-open-failed'; readonly reply: Reply }
  | { readonly type: 'chunk-received'; readonly bytes: number }
  | { readonly type: 'data-finished'; readonly outcome: DataOutcome }
  | { readonly type: 'timeout' }
  /** Message data arrived slower than min_data_rate allows (the listener keeps the clock). */
  | { readonly type: 'data-too-slow' }
  | { readonly type: 'shutdown' };

export type SessionAction =
  /** Count a message from the client against max_message_rate, then feed `message-counted`. */
  | { readonly kind: 'count-message' }
  /** Ask the message sink about one recipient, then feed `recipient-checked`. */
  | { readonly kind: 'check-recipient'; readonly forwardPath: string }
  /** Open a message writer, then feed `message-opened` or `message-open-failed`. */
  | { readonly kind: 'open-message'; readonly envelope: IncomingEnvelope; readonly protocol: string }
  /** Switch to DATA mode until CRLF.CRLF, then feed `data-finished`. */
  | { readonly kind: 'receive-data'; readonly maxBytes: number }
  /**
   * Read exactly `bytes` octets of a BDAT chunk. With `discard` they are thrown away (a refused
   * BDAT still carries its chunk, RFC 3030 §3). Feed `chunk-received`, or with `last` and not
   * `discard`, commit and feed `data-finished`.
   */
  | { readonly kind: 'receive-chunk'; readonly bytes: number; readonly last: boolean; readonly discard: boolean }
  /** Throw away the open message writer, if any. */
  | { readonly kind: 'abort-message' }
  /**
   * After the 220 is sent: discard every byte the client sent after STARTTLS (RFC 3207 5,
   * CVE-2011-0411), run the TLS handshake, then feed `tls-started`, or close on failure.
   */
  | { readonly kind: 'start-tls' }
  /** Check credentials with the authenticator, then feed `credentials-checked`. Never log this action. */
  | { readonly kind: 'verify-credentials'; readonly mechanism: 'PLAIN' | 'LOGIN'; readonly login: string; readonly password: string }
  | { readonly kind: 'close' };

/** What the session answers to one event: replies to send in order, then actions to perform. */
export interface SessionOutput {
  readonly replies: readonly Reply[];
  readonly actions: readonly SessionAction[];
  /**
   * Milliseconds to wait before sending `replies`: 0, or ERROR_DELAY_MS once the client has made
   * softErrorLimit errors (Postfix's tarpit). The session keeps no clock; the listener waits.
   */
  readonly delayMs: number;
}

/** What the session needs to know; the listener maps the config onto this. */
export interface SessionOptions {
  /** Our name in the greeting, replies and Received header. */
  readonly hostname: string;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  /** Client errors tolerated before 421 and close (Postfix's smtpd_hard_error_limit). */
  readonly maxErrors: number;
  /**
   * Client errors after which every reply waits ERROR_DELAY_MS (Postfix's smtpd_soft_error_limit);
   * a value of maxErrors or more never delays.
   * @default 10
   */
  readonly softErrorLimit?: number;
  /**
   * HELO, EHLO, RSET, NOOP, HELP, VRFY and EXPN commands allowed before each further one counts
   * as an error (Postfix's smtpd_junk_command_limit).
   * @default 100
   */
  readonly maxJunkCommands?: number;
  /**
   * How VRFY is answered: 'error' refuses it with 502 5.5.1, '252' answers RFC 5321 7.3's
   * 252 2.5.0 (neither says whether the user exists).
   * @default 'error'
   */
  readonly vrfy?: 'error' | '252';
  /** Tells whether a forward-path (bare `Postmaster` included) is delivered here (the queue's router). */
  readonly isLocal: (forwardPath: string) => boolean;
  /**
   * Whether each MAIL is counted against max_message_rate before it is accepted (the listener
   * asks the supervisor, which counts for every worker).
   * @default false
   */
  readonly countsMessages?: boolean;
  /** A certificate is loaded: STARTTLS is offered until TLS is active. @default false */
  readonly isTlsAvailable?: boolean;
  /** An authenticator is configured: AUTH PLAIN and LOGIN are offered over TLS. @default false */
  readonly isAuthAvailable?: boolean;
  /** Offer AUTH without TLS to loopback clients on an MX ('smtp') port. @default false */
  readonly allowPlaintextAuthOnLoopback?: boolean;
}

/** An open SASL exchange: the mechanism, and for LOGIN the user name once it was given. */
export interface SaslExchange {
  readonly mechanism: SaslMechanism;
  readonly login?: string;
}

/** Who the client authenticated as, and the sender addresses that login may use. */
export interface Authenticated {
  readonly login: string;
  readonly addresses: readonly string[];
}

/** Where the session stands; 'greeted' is before HELO/EHLO. */
export type Phase = 'new' | 'greeted' | 'ready' | 'closed';

/** What the session waits for from the listener, if anything. */
export type Awaiting = 'none' | 'message-count' | 'recipient-check' | 'message-open' | 'data' | 'chunk' | 'tls' | 'credentials';

/** The mutable state handed to verb handlers. */
export interface SessionState {
  readonly options: SessionOptions;
  phase: Phase;
  awaiting: Awaiting;
  client: ClientInfo;
  /** The service of the port the client connected to. */
  mode: ServiceMode;
  /** The TLS session, once negotiated. */
  tls: TlsInfo | null;
  /** Who the client logged in as, once AUTH succeeded. */
  auth: Authenticated | undefined;
  /** The SASL exchange in progress, between a 334 and the client's answer. */
  sasl: SaslExchange | undefined;
  helo: string;
  isExtended: boolean;
  transaction: Transaction | undefined;
  /** A MAIL accepted but for its count against max_message_rate. */
  pendingSender?: { readonly reversePath: string; readonly bodyType: BodyType };
  /** Client errors since the session began or since the last message was stored. */
  errorCount: number;
  /** Junk commands (JUNK_VERBS) over the same span. */
  junkCount: number;
  isShuttingDown: boolean;
}

/**
 * A verb's answer: replies, actions, and whether it counts as a client error. Only the client's
 * own mistakes count (syntax, sequence, unknown commands and parameters); our policy refusing
 * something well-formed (relaying, unknown users, limits, VRFY) never does.
 */
export interface VerbResult {
  readonly replies: readonly Reply[];
  readonly actions?: readonly SessionAction[];
  readonly isError?: boolean;
  /** Milliseconds to hold the replies (failed AUTHs piling up); the error delay may add to it. */
  readonly delayMs?: number;
}

export type VerbHandler = (state: SessionState, args: string) => VerbResult;

/** The transaction between MAIL and the end of the message. */
export interface Transaction {
  readonly reversePath: string;
  readonly bodyType: BodyType;
  readonly recipients: string[];
  /** RCPTs refused with 452 for going past maxRecipients. */
  overshoot: number;
  /** Set once the first BDAT is accepted; DATA is then out of sequence. */
  chunking: { isOpen: boolean; bytes: number } | undefined;
  /** The recipient waiting for its check, or the BDAT waiting for its message to open. */
  pendingRecipient?: string;
  pendingChunk?: { bytes: number; last: boolean };
  /** A reply to send once a discarded chunk has been read. */
  pendingReply?: Reply;
  /** Stands in for no transaction while a refused BDAT's chunk is read. */
  isStray?: boolean;
}

export type { BodyType };
