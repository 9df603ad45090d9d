// The queue runner: retries the deferred recipients it handles (local ones, for now) when the
// scheduler says they are due, records each outcome in the envelope and retires finished
// messages. Delivery itself is behind the Deliverer interface, so the relay can plug in later.
import type { Reply } from '../smtp/reply.js';
import type { QueueEnvelope, QueueRecipient } from './envelope.js';
import { afterTransientFailure, nextWakeMs } from './scheduler.js';
import type { RetryOptions } from './scheduler.js';
import type { QueueLogger } from './states.js';
import type { QueueStore, StoredMessage } from './store.js';

/** A queued message as a deliverer sees it. */
export interface QueuedMessage {
  readonly queueId: string;
  /** '' for the null sender. */
  readonly reversePath: string;
  /** The data file, CRLF line ends, as received. */
  readonly dataPath: string;
  readonly envelope: QueueEnvelope;
}

/** The outcome of one delivery attempt to one recipient. */
export type DeliveryOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'transient'; readonly reply: Reply }
  | { readonly kind: 'permanent'; readonly reply: Reply };

/** Tries one recipient of a queued message (chasquid's Courier). */
export interface Deliverer {
  deliver(message: QueuedMessage, recipient: string): Promise<DeliveryOutcome>;
}

export interface QueueRunnerOptions {
  readonly store: QueueStore;
  readonly deliverer: Deliverer;
  /** Tells whether this runner delivers to an address; the others are left as they are. */
  readonly handles: (address: string) => boolean;
  readonly retry: RetryOptions;
  readonly logger: QueueLogger;
  /** Longest sleep between scans, so `mta queue flush` is noticed. @default 60000 */
  readonly pollIntervalMs?: number;
  /** @default Date.now */
  readonly nowMs?: () => number;
}

/** Retries due recipients on a timer. One runner per queue: it assumes nobody else delivers. */
export class QueueRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: QueueRunnerOptions) {}

  /** Starts scanning now and then whenever a retry is due. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the timer and waits for a scan in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Asks for a scan soon, e.g. after a message was queued. */
  wake(): void {
    if (!this.stopped && this.running === undefined) this.schedule(0);
  }

  /** Scans the queue once and attempts every due recipient; returns the number of attempts. */
  async runOnce(): Promise<number> {
    const { store, logger } = this.options;
    let attempts = 0;
    for (const message of await store.list()) {
      if (message.state === 'bounce') continue;
      try {
        attempts += await this.runMessage(message);
      } catch (err) {
        // The message may have been deleted by `mta queue delete` meanwhile; the next scan decides.
        logger.warn({ queueId: message.envelope.queueId, err: errorCode(err) }, 'queue update failed');
      }
    }
    return attempts;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.scan().finally(() => (this.running = undefined));
    }, Math.max(0, delayMs));
  }

  private async scan(): Promise<void> {
    const now = this.now();
    const poll = this.options.pollIntervalMs ?? 60_000;
    let wakeAt = now + poll;
    try {
      await this.runOnce();
      const next = nextWakeMs((await this.options.store.list()).map((m) => m.envelope), this.options.handles);
      if (next !== undefined) wakeAt = Math.min(wakeAt, next);
    } catch (err) {
      this.options.logger.error({ err: errorCode(err) }, 'queue scan failed');
    }
    if (!this.stopped) this.schedule(wakeAt - this.now());
  }

  /** Attempts the due recipients of one message and stores the outcome; returns the attempts made. */
  private async runMessage(message: StoredMessage): Promise<number> {
    const { envelope } = message;
    const now = this.now();
    const due = envelope.recipients.filter((r) => this.isDue(r, now));
    if (due.length === 0) return 0;
    const attempts = envelope.attempts + 1;
    const queued: QueuedMessage = { queueId: envelope.queueId, reversePath: envelope.reversePath, dataPath: message.dataPath, envelope };
    const updated: QueueRecipient[] = [];
    for (const r of envelope.recipients) {
      if (!due.includes(r)) updated.push(r);
      else updated.push(this.outcome(envelope, r.address, attempts, await this.options.deliverer.deliver(queued, r.address)));
    }
    const next = await this.options.store.update(message, { ...envelope, recipients: updated, attempts });
    this.options.logger.info({ queueId: envelope.queueId, attempted: due.length, state: next }, 'queue attempt done');
    return due.length;
  }

  private isDue(r: QueueRecipient, nowMs: number): boolean {
    if (!this.options.handles(r.address)) return false;
    return r.status === 'pending' || (r.status === 'deferred' && Date.parse(r.nextAttemptAt) <= nowMs);
  }

  private outcome(envelope: QueueEnvelope, address: string, attempts: number, result: DeliveryOutcome): QueueRecipient {
    const nowMs = this.now();
    const log = { queueId: envelope.queueId, rcpt: address, attempts };
    if (result.kind === 'delivered') return { address, status: 'delivered', deliveredAt: new Date(nowMs).toISOString() };
    if (result.kind === 'permanent') {
      this.options.logger.warn({ ...log, code: result.reply.code }, 'delivery failed');
      return { address, status: 'failed', lastReply: result.reply };
    }
    const decision = afterTransientFailure(attempts, Date.parse(envelope.arrivedAt), nowMs, this.options.retry);
    if (decision.kind === 'give-up') {
      this.options.logger.warn({ ...log, code: result.reply.code }, 'delivery expired');
      return { address, status: 'failed', lastReply: result.reply };
    }
    this.options.logger.info({ ...log, code: result.reply.code }, 'delivery deferred');
    return { address, status: 'deferred', lastReply: result.reply, nextAttemptAt: new Date(decision.atMs).toISOString() };
  }

  private now(): number {
    return (this.options.nowMs ?? Date.now)();
  }
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}
