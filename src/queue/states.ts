// The state folders of the queue and the rule that maps an envelope to one of them. The
// envelope is the truth about each recipient; the folder is an index so scans stay cheap.
import type { QueueEnvelope } from './envelope.js';

/** A state folder holding live messages. */
export type QueueState = 'incoming' | 'deferred' | 'bounce';

/** The state folders, in the order the runner and `mta queue list` scan them. */
export const QUEUE_STATES: readonly QueueState[] = ['incoming', 'deferred', 'bounce'];

/** The logger the queue writes to: the subset of pino it uses. */
export interface QueueLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Returns the folder an envelope belongs in: deferred/ while a recipient waits for a retry,
 * incoming/ while one was never tried, bounce/ when only failures remain to be reported to a
 * sender (the runner then queues the bounce and removes the message), and 'done' when nothing is left (no DSN to the null sender).
 */
export function folderFor(envelope: QueueEnvelope): QueueState | 'done' {
  const statuses = new Set(envelope.recipients.map((r) => r.status));
  if (statuses.has('deferred')) return 'deferred';
  if (statuses.has('pending')) return 'incoming';
  if (owesBounce(envelope)) return 'bounce';
  return 'done';
}

/** Tells whether a message has failed recipients its sender has not been told of yet (never for `<>`). */
export function owesBounce(envelope: QueueEnvelope): boolean {
  return envelope.reversePath !== '' && envelope.recipients.some((r) => r.status === 'failed' && r.bouncedAt === undefined);
}
