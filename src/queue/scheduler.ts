// Pure retry rules of the queue: turning a delivery outcome into a recipient's new status, when a
// recipient is due, when to give up, and when a message is due next. No files and no clock here:
// callers pass the time in. The intake and the runner both record outcomes through recordOutcome.
import type { DeliveryOutcome } from './deliverer.js';
import type { QueueEnvelope, QueueRecipient, RecipientAddress } from './envelope.js';

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
export function afterTransientFailure(attempts: number, arrivedAtMs: number, nowMs: number, options: RetryOptions): RetryDecision {
  const deadlineMs = arrivedAtMs + options.maxQueueLifetimeMs;
  if (nowMs >= deadlineMs) return { kind: 'give-up' };
  return { kind: 'retry', atMs: Math.min(nowMs + backoffMs(attempts, options), deadlineMs) };
}

/** Where an attempt happened: the message's attempt count (this one included), arrival and now. */
export interface AttemptContext {
  readonly attempts: number;
  readonly arrivedAtMs: number;
  readonly nowMs: number;
  readonly retry: RetryOptions;
}

/**
 * Returns a recipient's status after an attempt; a transient failure past the lifetime is final.
 * Given a recipient rather than an address, its originalRecipient is kept.
 */
export function recordOutcome(recipient: string | RecipientAddress, outcome: DeliveryOutcome, at: AttemptContext): QueueRecipient {
  const who: RecipientAddress = typeof recipient === 'string' ? { address: recipient } : whoOf(recipient);
  if (outcome.kind === 'delivered') return { ...who, status: 'delivered', deliveredAt: new Date(at.nowMs).toISOString() };
  const from = outcome.remoteMta === undefined ? {} : { remoteMta: outcome.remoteMta };
  if (outcome.kind === 'permanent') return { ...who, status: 'failed', lastReply: outcome.reply, ...from };
  const decision = afterTransientFailure(at.attempts, at.arrivedAtMs, at.nowMs, at.retry);
  if (decision.kind === 'give-up') return { ...who, status: 'failed', lastReply: outcome.reply, ...from };
  return { ...who, status: 'deferred', lastReply: outcome.reply, nextAttemptAt: new Date(decision.atMs).toISOString(), ...from };
}

/** The identity fields of a recipient, without its status (originalRecipient only when set). */
function whoOf(r: RecipientAddress): RecipientAddress {
  return r.originalRecipient === undefined ? { address: r.address } : { address: r.address, originalRecipient: r.originalRecipient };
}

/** Returns when a recipient is due: never tried means now (0), deferred means its retry time. */
export function dueAtMs(recipient: QueueRecipient): number | undefined {
  if (recipient.status === 'pending') return 0;
  if (recipient.status === 'deferred') return Date.parse(recipient.nextAttemptAt);
  return undefined;
}

/** Tells whether a recipient should be tried at `nowMs`. */
export function isDue(recipient: QueueRecipient, nowMs: number): boolean {
  const at = dueAtMs(recipient);
  return at !== undefined && at <= nowMs;
}

/** Returns when a message is next due among the recipients `handles` accepts, or undefined if never. */
export function messageDueAtMs(envelope: QueueEnvelope, handles: (address: string) => boolean): number | undefined {
  let earliest: number | undefined;
  for (const r of envelope.recipients) {
    const at = handles(r.address) ? dueAtMs(r) : undefined;
    if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
  }
  return earliest;
}

