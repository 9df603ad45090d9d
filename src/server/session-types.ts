// The vocabulary of the pure SMTP session: the events the listener feeds in and the actions it
// must perform. Kept apart from the state machine so that the listener and tests import only this.
import type { Reply } from '../smtp/reply.js';
import type { AuthVerdict } from './authenticator.js';
import type { BodyType, IncomingEnvelope } from './message-sink.js';

/** What the listener learnt about the client at connect time. */
export interface ClientInfo {
  readonly address: string;
  /** The forward-confirmed PTR name, or null when there is none or lookups are off. */
  readonly ptr: string | null;
  /** Whether the client may relay to non-local domains (relay_networks). */
  readonly mayRelay: boolean;
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
  /** `listener` defaults to plain MX service without TLS. */
  | { readonly type: 'connected'; readonly client: ClientInfo; readonly listener?: ListenerInfo }
  | { readonly type: 'line'; readonly line: string }
  /** A line sent inside an open SASL exchange (after a 334): credentials, never logged. */
  | { readonly type: 'auth-response'; readonly line: string }
  /** The TLS handshake asked for by `start-tls` completed. */
  | { readonly type: 'tls-started'; readonly tls: TlsInfo }
  | { readonly type: 'credentials-checked'; readonly verdict: AuthVerdict }
  | { readonly type: 'line-too-long' }
  | { readonly type: 'bare-linefeed' }
  | { readonly type: 'recipient-checked'; readonly refusal: Reply | undefined }
  | { readonly type: 'message-opened'; readonly queueId: string }
  | { readonly type: 'message-open-failed'; readonly reply: Reply }
  | { readonly type: 'chunk-received'; readonly bytes: number }
  | { readonly type: 'data-finished'; readonly outcome: DataOutcome }
  | { readonly type: 'timeout' }
  | { readonly type: 'shutdown' };

export type SessionAction =
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

export type { BodyType };
