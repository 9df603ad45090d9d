// The queue's view of delivery, declared here by the consumer (chasquid's Courier): a Deliverer
// takes one message and a batch of its recipients and reports one outcome per recipient. Maildir
// (local) and the relay (remote) match it by shape; cli/wiring.ts checks that with a typed assignment.
import type { Writable } from 'node:stream';
import type { Reply } from '../smtp/reply.js';

/** A message as a deliverer sees it. */
export interface QueuedMessage {
  readonly queueId: string;
  /** '' for the null sender. */
  readonly reversePath: string;
  /** The data file, CRLF line ends, as received. */
  readonly dataPath: string;
  readonly bodyType: '7bit' | '8bitmime' | 'smtputf8';
  /** Size of the data file in bytes (for SIZE). */
  readonly sizeBytes: number;
}

/** The outcome of one delivery attempt to one recipient: whether a failure is final is data. */
export type DeliveryOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'transient'; readonly reply: Reply; readonly remoteMta?: string }
  | { readonly kind: 'permanent'; readonly reply: Reply; readonly remoteMta?: string };

/** Delivers one message to a batch of recipients. */
export interface Deliverer {
  /** Returns one outcome per recipient, in the order given; never rejects for a delivery failure. */
  deliver(message: QueuedMessage, recipients: readonly string[]): Promise<DeliveryOutcome[]>;
  /** Forgets the hosts it found unreachable lately: after `mta queue flush` every host is tried again. */
  forgetFailures?(): void;
}

/**
 * A message written into its one local mailbox while it is received: `commit` makes it durable
 * and visible (delivered) or reports why not (transient: nothing was left behind).
 */
export interface DirectDelivery {
  readonly body: Writable;
  commit(): Promise<DeliveryOutcome>;
  discard(): Promise<void>;
}

/**
 * Local delivery: it can vouch for a recipient at RCPT time, and it announces the file each
 * recipient's copy will have before any copy becomes visible, so that a crash between the
 * delivery and the envelope rewrite does not deliver that recipient twice.
 */
export interface LocalDeliverer extends Deliverer {
  deliver(
    message: QueuedMessage,
    recipients: readonly string[],
    onIntent?: (files: readonly (string | undefined)[]) => Promise<void>,
  ): Promise<DeliveryOutcome[]>;
  /** Returns undefined to accept the address, or the refusal (550 5.1.1, 452 4.3.1...). */
  checkRecipient(address: string): Promise<Reply | undefined>;
  /** Tells whether a file announced through onIntent was delivered. */
  isPlaced(file: string): Promise<boolean>;
  /**
   * Starts writing a message being received straight into the one mailbox its recipients share;
   * undefined when they do not share one, or it cannot take the file now (the message is spooled).
   */
  openCopy?(message: { readonly queueId: string; readonly reversePath: string }, mailboxes: readonly string[]): Promise<DirectDelivery | undefined>;
}
