// The queue runner: keeps in memory when each queued message is due, and at that time reloads
// the message, hands its due recipients to the local or the remote Deliverer in one batch each,
// records the outcomes in the envelope and retires finished messages. The whole queue is read
// only at start and after `mta queue flush`; a newly queued message is added by wake(queueId).
import { stat } from 'node:fs/promises';
import { closeSync } from 'node:fs';
import { writeFully } from '../fsio/durable.js';
import { errnoCode } from '../fsio/errno.js';
import type { Deliverer, DeliveryOutcome, LocalDeliverer, QueuedMessage } from './deliverer.js';
import type { QueueEnvelope, QueueRecipient } from './envelope.js';
import type { Router } from './router.js';
import { buildBounce, failedRecipients } from './dsn.js';
import { ENVELOPE_VERSION } from './envelope.js';
import { isDue, messageDueAtMs, recordOutcome } from './scheduler.js';
import type { RetryOptions } from './scheduler.js';
import { owesBounce } from './states.js';
import type { QueueLogger, QueueState } from './states.js';
import { readHeaders, type QueueStore, type StoredMessage } from './store.js';

export interface QueueRunnerOptions {
  readonly store: QueueStore;
  readonly router: Router;
  readonly local: LocalDeliverer;
  /** Delivers to other domains; while there is none, remote recipients wait in the queue. */
  readonly remote?: Deliverer;
  /** The destination of a remote domain (its MX hosts, or a fixed next hop). @default the domain */
  readonly destinationOf?: (domain: string) => string;
  readonly retry: RetryOptions;
  readonly logger: QueueLogger;
  /** Our host name, for the bounces this runner writes. */
  readonly hostname: string;
  /** Hears of each message this runner queues (a bounce), so that its owner can take it. */
  readonly onQueued?: (queueId: string) => void;
  /** Messages being delivered at once: one slow host must not hold up the queue. @default 100 */
  readonly maxInFlight?: number;
  /**
   * Messages under way for one remote destination: they queue for its one session, so a few keep
   * it busy and more would only take places other destinations could use. @default 5
   */
  readonly maxInFlightPerDestination?: number;
  /** How often the flush trigger is checked. @default 5000 */
  readonly pollIntervalMs?: number;
  /** @default Date.now */
  readonly nowMs?: () => number;
}

/** When a message is next due, and the remote destinations of its recipients still to deliver. */
interface Scheduled {
  readonly state: QueueState;
  readonly dueAtMs: number;
  readonly destinations: readonly string[];
}

/** Retries due recipients on a timer. One runner per queue: it assumes nobody else delivers its messages. */
export class QueueRunner {
  /** When each message is next due, by queue id. */
  private readonly schedule = new Map<string, Scheduled>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** The flush trigger's time at the last rescan; null before the first one. */
  private flushSeenMs: number | undefined | null = null;
  private readonly added = new Set<string>();
  /** Deliveries under way, by queue id. */
  private readonly inFlight = new Map<string, Promise<number>>();
  /** Messages under way per remote destination. */
  private readonly busyDestinations = new Map<string, number>();

  constructor(private readonly options: QueueRunnerOptions) {}

  /** Reads the queue, then runs whatever is due and sleeps until the next retry. */
  start(): void {
    this.stopped = false;
    this.arm(0);
  }

  /** Stops the timer and waits for the deliveries under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await Promise.all(this.inFlight.values());
  }

  /** Adds a newly queued message (or, without an id, just runs what is due) soon. */
  wake(queueId?: string): void {
    if (queueId !== undefined) this.added.add(queueId);
    if (!this.stopped && this.running === undefined) this.arm(0);
  }

  /** Reads every message into the schedule; returns how many are scheduled. */
  async rescan(): Promise<number> {
    this.schedule.clear();
    this.flushSeenMs = await this.flushStamp();
    for (const message of await this.options.store.list()) this.track(message);
    return this.schedule.size;
  }

  /** Attempts every message that is due now and waits for them; returns the number of recipients attempted. */
  async runDue(): Promise<number> {
    const started = await this.dispatch();
    return (await Promise.all(started)).reduce((sum, n) => sum + n, 0);
  }

  /** Starts the due messages not already under way, up to maxInFlight; returns their deliveries. */
  private async dispatch(): Promise<Promise<number>[]> {
    await this.addNew();
    const now = this.now();
    const started: Promise<number>[] = [];
    for (const [queueId, entry] of [...this.schedule]) {
      if (this.inFlight.size >= (this.options.maxInFlight ?? 100)) break;
      if (entry.dueAtMs > now || this.inFlight.has(queueId) || !this.hasRoom(entry.destinations)) continue;
      this.occupy(entry.destinations, 1);
      const delivery = this.runMessage(queueId, entry.state)
        .catch((err: unknown) => {
          // Deleted by `mta queue delete` meanwhile, or the disk failed: the next rescan decides.
          this.schedule.delete(queueId);
          this.options.logger.warn({ queueId, err: errnoCode(err) }, 'queue update failed');
          return 0;
        })
        .finally(() => {
          this.inFlight.delete(queueId);
          this.occupy(entry.destinations, -1);
          this.wake();
        });
      this.inFlight.set(queueId, delivery);
      started.push(delivery);
    }
    return started;
  }

  private hasRoom(destinations: readonly string[]): boolean {
    const limit = this.options.maxInFlightPerDestination ?? 5;
    return destinations.every((d) => (this.busyDestinations.get(d) ?? 0) < limit);
  }

  private occupy(destinations: readonly string[], delta: number): void {
    for (const d of destinations) {
      const n = (this.busyDestinations.get(d) ?? 0) + delta;
      if (n > 0) this.busyDestinations.set(d, n);
      else this.busyDestinations.delete(d);
    }
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => (this.running = undefined));
    }, Math.max(0, delayMs));
  }

  private async pass(): Promise<void> {
    try {
      if ((await this.flushStamp()) !== this.flushSeenMs) {
        this.options.remote?.forgetFailures?.();
        await this.rescan();
      }
      await this.dispatch();
    } catch (err) {
      this.options.logger.error({ err: errnoCode(err) }, 'queue pass failed');
    }
    if (this.stopped) return;
    const poll = this.options.pollIntervalMs ?? 5000;
    const waiting = [...this.schedule].filter(([queueId]) => !this.inFlight.has(queueId));
    const next = Math.min(...waiting.map(([, e]) => e.dueAtMs), this.now() + poll);
    this.arm(this.added.size > 0 ? 0 : next - this.now());
  }

  private async addNew(): Promise<void> {
    for (const queueId of [...this.added]) {
      this.added.delete(queueId);
      const state = await this.options.store.find(queueId);
      const loaded = state === undefined ? undefined : await this.options.store.load(state, queueId);
      if (loaded?.ok) this.track(loaded.message);
    }
  }

  private track(message: StoredMessage): void {
    const { queueId } = message.envelope;
    // A message in bounce/ owes its sender a bounce: that is due at once.
    const dueAtMs = message.state === 'bounce' ? 0 : messageDueAtMs(message.envelope, (a) => this.handles(a));
    if (dueAtMs === undefined) this.schedule.delete(queueId);
    else this.schedule.set(queueId, { state: message.state, dueAtMs, destinations: message.state === 'bounce' ? [] : this.destinations(message.envelope) });
  }

  /** Reloads one message, attempts its due recipients and stores the outcome; returns the attempts made. */
  private async runMessage(queueId: string, state: QueueState): Promise<number> {
    const loaded = await this.options.store.load(state, queueId);
    if (!loaded.ok) throw Object.assign(new Error(loaded.problem), { code: 'MTA_ERR_QUEUE_UNREADABLE' });
    const { envelope } = loaded.message;
    if (state === 'bounce') return this.bounce(loaded.message);
    const now = this.now();
    const due = envelope.recipients.filter((r) => this.handles(r.address) && isDue(r, now));
    if (due.length === 0) {
      this.track(loaded.message);
      return 0;
    }
    const attempts = envelope.attempts + 1;
    const message = { queueId, reversePath: envelope.reversePath, dataPath: loaded.message.dataPath, bodyType: envelope.bodyType, sizeBytes: envelope.size };
    const outcomes = await this.attempt(message, due, async (intent) => {
      await this.options.store.update(loaded.message, intent(envelope));
    });
    const at = { attempts, arrivedAtMs: Date.parse(envelope.arrivedAt), nowMs: this.now(), retry: this.options.retry };
    const recipients = envelope.recipients.map((r) => {
      const outcome = outcomes.get(r);
      return outcome ? this.record(queueId, recordOutcome(r, outcome, at), attempts) : r;
    });
    const updated = { ...envelope, recipients, attempts };
    const next = await this.options.store.update(loaded.message, updated);
    this.options.logger.info({ queueId, attempted: due.length, state: next }, 'queue attempt done');
    if (next === 'done') this.schedule.delete(queueId);
    // A failure is told at once, as Postfix does, even while other recipients are still deferred.
    else if (owesBounce(updated)) await this.bounceAt(next, queueId);
    else this.track({ ...loaded.message, state: next, envelope: updated });
    return due.length;
  }

  /** Bounces a message just rewritten into `state` (its files may have moved with it). */
  private async bounceAt(state: QueueState, queueId: string): Promise<void> {
    const moved = await this.options.store.load(state, queueId);
    if (!moved.ok) throw Object.assign(new Error(moved.problem), { code: 'MTA_ERR_QUEUE_UNREADABLE' });
    await this.bounce(moved.message);
  }

  /**
   * Queues one bounce (RFC 3464) for the failed recipients not reported yet, addressed to the
   * sender with the null sender, then marks them reported (`bouncedAt`); a message with nothing
   * left to do is removed. A crash in between sends the bounce twice, never not at all. Returns
   * the number of attempts made: none.
   */
  private async bounce(message: StoredMessage): Promise<0> {
    const { envelope } = message;
    const spool = await this.options.store.createSpool();
    let isOpen = true;
    try {
      const text = buildBounce(envelope, failedRecipients(envelope), {
        hostname: this.options.hostname,
        originalHeaders: await readHeaders(message.dataPath),
        now: new Date(this.now()),
        token: spool.queueId,
      });
      const data = Buffer.from(text, 'utf8');
      writeFully(spool.fd, data);
      isOpen = false;
      closeSync(spool.fd);
      await this.options.store.commitSpool(spool, {
        version: ENVELOPE_VERSION,
        queueId: spool.queueId,
        reversePath: '',
        recipients: this.bounceRecipients(envelope.reversePath),
        arrivedAt: new Date(this.now()).toISOString(),
        attempts: 0,
        client: { address: '127.0.0.1', helo: this.options.hostname, ptr: null },
        bodyType: '8bitmime',
        size: data.length,
      });
    } catch (err) {
      if (isOpen) closeSync(spool.fd);
      await this.options.store.discardSpool(spool);
      throw err;
    }
    const bouncedAt = new Date(this.now()).toISOString();
    const reported = envelope.recipients.map((r) => (r.status === 'failed' && r.bouncedAt === undefined ? { ...r, bouncedAt } : r));
    const marked = { ...envelope, recipients: reported };
    const next = await this.options.store.update(message, marked);
    if (next === 'done') this.schedule.delete(envelope.queueId);
    else this.track({ ...message, state: next, envelope: marked });
    this.options.logger.info({ queueId: envelope.queueId, bounce: spool.queueId, to: envelope.reversePath }, 'bounce queued');
    this.wake(spool.queueId);
    this.options.onQueued?.(spool.queueId);
    return 0;
  }

  /**
   * Sends the due recipients to their deliverers, one batch each; returns every outcome. A local
   * recipient whose announced file exists was delivered before a crash: it is not written again.
   * `saveIntent` stores the files a local delivery is about to publish, before it publishes them.
   */
  private async attempt(
    message: QueuedMessage,
    due: readonly QueueRecipient[],
    saveIntent: (intent: (envelope: QueueEnvelope) => QueueEnvelope) => Promise<void>,
  ): Promise<Map<QueueRecipient, DeliveryOutcome>> {
    const outcomes = new Map<QueueRecipient, DeliveryOutcome>();
    const local: { r: QueueRecipient; mailbox: string }[] = [];
    const remote: QueueRecipient[] = [];
    for (const r of due) {
      const route = this.options.router.route(r.address);
      if (route.kind === 'local' && (await this.wasPlaced(r))) outcomes.set(r, { kind: 'delivered' });
      else if (route.kind === 'local') local.push({ r, mailbox: route.mailbox });
      else if (route.kind === 'remote') remote.push(r);
      else outcomes.set(r, { kind: 'permanent', reply: route.reply });
    }
    if (local.length > 0) {
      const onIntent = (files: readonly (string | undefined)[]) =>
        saveIntent((envelope) => withIntent(envelope, new Map(local.map((l, i) => [l.r.address, files[i]]))));
      const results = await this.options.local.deliver(message, local.map((l) => l.mailbox), onIntent);
      local.forEach((l, i) => outcomes.set(l.r, results[i] ?? missingOutcome()));
    }
    if (remote.length > 0 && this.options.remote) {
      const results = await this.options.remote.deliver(message, remote.map((r) => r.address));
      remote.forEach((r, i) => outcomes.set(r, results[i] ?? missingOutcome()));
    }
    return outcomes;
  }

  /** Where a bounce to `sender` goes: a local alias's targets (as for mail from outside), else the sender. */
  private bounceRecipients(sender: string): QueueRecipient[] {
    const resolution = this.options.router.resolve(sender);
    if (resolution.kind !== 'alias') return [{ address: sender, status: 'pending' }];
    return resolution.targets.map((address) => ({ address, originalRecipient: sender, status: 'pending' }));
  }

  private async wasPlaced(r: QueueRecipient): Promise<boolean> {
    const file = r.status === 'pending' || r.status === 'deferred' ? r.maildirFile : undefined;
    return file !== undefined && (await this.options.local.isPlaced(file));
  }

  private record(queueId: string, r: QueueRecipient, attempts: number): QueueRecipient {
    const fields = { queueId, rcpt: r.address, attempts };
    if (r.status === 'failed') this.options.logger.warn({ ...fields, code: r.lastReply.code }, 'delivery failed');
    else if (r.status === 'deferred') this.options.logger.info({ ...fields, code: r.lastReply.code, next: r.nextAttemptAt }, 'delivery deferred');
    return r;
  }

  /** Tells whether this runner delivers to an address now: local always, remote once a relay exists. */
  private handles(address: string): boolean {
    const kind = this.options.router.route(address).kind;
    return kind !== 'remote' || this.options.remote !== undefined;
  }

  /** The remote destinations of the recipients still to deliver. */
  private destinations(envelope: QueueEnvelope): string[] {
    const found = new Set<string>();
    for (const r of envelope.recipients) {
      if (r.status !== 'pending' && r.status !== 'deferred') continue;
      const route = this.options.router.route(r.address);
      if (route.kind === 'remote') found.add(this.options.destinationOf?.(route.domain) ?? route.domain);
    }
    return [...found];
  }

  /** The time `mta queue flush` last touched its trigger, or undefined when it never did. */
  private async flushStamp(): Promise<number | undefined> {
    return stat(this.options.store.flushTrigger).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
  }

  private now(): number {
    return (this.options.nowMs ?? Date.now)();
  }
}

/** The envelope with each recipient's announced Maildir file set (pending and deferred ones only). */
function withIntent(envelope: QueueEnvelope, files: ReadonlyMap<string, string | undefined>): QueueEnvelope {
  const recipients = envelope.recipients.map((r) => {
    const file = files.get(r.address);
    return file !== undefined && (r.status === 'pending' || r.status === 'deferred') ? { ...r, maildirFile: file } : r;
  });
  return { ...envelope, recipients };
}

function missingOutcome(): DeliveryOutcome {
  throw new RangeError('A deliverer returned fewer outcomes than recipients');
}
