// What the SMTP server needs from whoever stores accepted mail (the queue's intake, which
// matches it by shape). Declared here, by the consumer; only cli/ knows the implementation.
import type { Writable } from 'node:stream';
import type { Reply } from '../smtp/reply.js';

/** The body type a client declared with MAIL FROM BODY= and SMTPUTF8 (RFC 6152, RFC 6531). */
export type BodyType = '7bit' | '8bitmime' | 'smtputf8';

/** The envelope of one transaction, as the session accepted it. */
export interface IncomingEnvelope {
  /** The reverse-path without angle brackets; '' for the null sender `<>`. */
  readonly reversePath: string;
  /** Forward-paths without angle brackets, in RCPT order, deduplicated. */
  readonly recipients: readonly string[];
  readonly bodyType: BodyType;
  readonly client: { readonly address: string; readonly helo: string; readonly ptr: string | null };
}

/** The result of committing a message: its queue id once it is durable, or the reply to send. */
export type CommitResult =
  | { readonly ok: true; readonly queueId: string }
  | { readonly ok: false; readonly reply: Reply };

/**
 * A message being received. The listener writes the body (dot-unstuffed, CRLF line ends,
 * Received header first) into `body`, honouring backpressure, then calls commit or abort.
 */
export interface MessageWriter {
  /** The queue id assigned at open, used in the Received header before the body is written. */
  readonly queueId: string;
  readonly body: Writable;
  /** Makes the message durable (fsync'd data and envelope, renamed, directory fsync'd). */
  commit(): Promise<CommitResult>;
  /** Drops the partial message; leaves nothing behind. */
  abort(): Promise<void>;
}

/** A message writer, or the reply to send when nothing can be stored now. */
export type OpenResult = { readonly ok: true; readonly writer: MessageWriter } | { readonly ok: false; readonly reply: Reply };

/** Stores accepted mail. */
export interface MessageSink {
  /** Starts a message for the envelope; rejects only for a bug or an unexpected I/O failure. */
  open(envelope: IncomingEnvelope): Promise<OpenResult>;
  /** Checks one recipient at RCPT time: undefined to accept, or the refusal (550 5.1.1, 452 4.3.1). */
  checkRecipient(forwardPath: string): Promise<Reply | undefined>;
}
