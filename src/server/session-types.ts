// The vocabulary of the pure SMTP session: the events the listener feeds in and the actions it
// must perform. Kept apart from the state machine so that the listener and tests import only this.
import type { Reply } from '../smtp/reply.js';
import type { BodyType, IncomingEnvelope } from './message-sink.js';

/** What the listener learnt about the client at connect time. */
export interface ClientInfo {
  readonly address: string;
  /** The forward-confirmed PTR name, or null when there is none or lookups are off. */
  readonly ptr: string | null;
  /** Whether the client may relay to non-local domains (relay_networks). */
  readonly mayRelay: boolean;
}

/** How the message body ended, as the listener observed it. */
export type DataOutcome =
  | { readonly kind: 'stored'; readonly queueId: string }
  | { readonly kind: 'too-big' }
  | { readonly kind: 'bare-linefeed' }
  | { readonly kind: 'line-too-long' }
  | { readonly kind: 'failed'; readonly reply: Reply };

export type SessionEvent =
  /** `hasTalkedEarly`: the client sent bytes before the greeting (RFC 5321 3.1), so it is refused. */
  | { readonly type: 'connected'; readonly client: ClientInfo; readonly hasTalkedEarly?: boolean }
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
