// Pure retry maths for the queue: when a deferred recipient is due again, when to give up, and
// when the runner should wake next. No files and no clock here: callers pass the time in.
import type { QueueEnvelope, QueueRecipient } from './envelope.js';

/** How retries are spaced and when the queue gives up on a recipient. */
export interface RetryOptions {
  /** Delay after the first transient failure; doubles with each attempt. @default 300000 */
  readonly retryMinIntervalMs: number;
  /** Upper bound of the delay between attempts. @default 3600000 */
  readonly retryMaxIntervalMs: number;
  /** Age after which a transient failure becomes permanent (RFC 5321 4.5.4.1: 4-5 days). @default 432000000 */
  readonly maxQueueLifetimeMs: number;
}

/** After a transient failure: retry at a time, or give up because the message is too old. */
export type RetryDecision = { readonly kind: 'retry'; readonly atMs: number } | { readonly kind: 'give-up' };

/** Returns the delay before the next attempt after `attempts` failed attempts (1 or more). */
export function backoffMs(attempts: number, options: RetryOptions): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 30));
  return Math.min(options.retryMaxIntervalMs, options.retryMinIntervalMs * 2 ** exponent);
}

/**
 * Decides what follows a transient failure at `nowMs`. The last retry is pulled in to the end
 * of the lifetime, so a message gets one final attempt at its deadline rather than none.
 */
export function afterTransientFailure(
  attempts: number,
  arrivedAtMs: number,
  nowMs: number,
  options: RetryOptions,
): RetryDecision {
  const deadlineMs = arrivedAtMs + options.maxQueueLifetimeMs;
  if (nowMs >= deadlineMs) return { kind: 'give-up' };
  return { kind: 'retry', atMs: Math.min(nowMs + backoffMs(attempts, options), deadlineMs) };
}

/** Tells whether a recipient is waiting for a retry that is due at `nowMs`. */
export function isDue(recipient: QueueRecipient, nowMs: number): boolean {
  return recipient.status === 'deferred' && Date.parse(recipient.nextAttemptAt) <= nowMs;
}

/** Returns the recipients of an envelope that the runner should try now, among those it handles. */
export function dueRecipients(
  envelope: QueueEnvelope,
  nowMs: number,
  handles: (address: string) => boolean,
): QueueRecipient[] {
  return envelope.recipients.filter((r) => isDue(r, nowMs) && handles(r.address));
}

/** Returns the earliest retry time among the handled deferred recipients, or undefined if none. */
export function nextWakeMs(
  envelopes: Iterable<QueueEnvelope>,
  handles: (address: string) => boolean,
): number | undefined {
  let earliest: number | undefined;
  for (const envelope of envelopes) {
    for (const r of envelope.recipients) {
      if (r.status !== 'deferred' || !handles(r.address)) continue;
      const at = Date.parse(r.nextAttemptAt);
      if (earliest === undefined || at < earliest) earliest = at;
    }
  }
  return earliest;
}

/** Tells whether every recipient has reached a final state (delivered or failed). */
export function isFinished(envelope: QueueEnvelope): boolean {
  return envelope.recipients.every((r) => r.status === 'delivered' || r.status === 'failed');
}
