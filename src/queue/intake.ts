// The intake, where the durability rule lives (DESIGN.md): the server's MessageSink, matched by
// shape. Mail whose recipients all share one local mailbox is written straight into it while it
// is received and acknowledged once that file is durable in new/ (refused with a 4xx if it
// cannot be: the client retries). Any other message is spooled; at the end of DATA its local
// recipients are delivered from the spool, whatever remains is committed to the queue, and only
// then is the message acknowledged. The message size is counted here, once.
import { closeSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { errnoCode } from '../fsio/errno.js';
import { FileSink } from '../fsio/file-sink.js';
import { replies } from '../smtp/reply.js';
import type { Reply } from '../smtp/reply.js';
import type { DeliveryOutcome, DirectDelivery, LocalDeliverer } from './deliverer.js';
import { ENVELOPE_VERSION } from './envelope.js';
import type { BodyType, QueueEnvelope, QueueRecipient, RecipientAddress } from './envelope.js';
import { newQueueId } from './queue-id.js';
import type { Router } from './router.js';
import { recordOutcome } from './scheduler.js';
import type { RetryOptions } from './scheduler.js';
import { folderFor } from './states.js';
import type { QueueLogger, QueueState } from './states.js';
import type { QueueStore, Spool } from './store.js';

/** The envelope of a message being received, as the server's session accepted it. */
export interface IntakeEnvelope {
  /** '' for the null sender. */
  readonly reversePath: string;
  readonly recipients: readonly string[];
  readonly bodyType: BodyType;
  readonly client: { readonly address: string; readonly helo: string; readonly ptr: string | null };
}

/** The result of committing a message, as the server's MessageWriter reports it. */
export type CommitResult = { readonly ok: true; readonly queueId: string } | { readonly ok: false; readonly reply: Reply };

export interface IntakeOptions {
  readonly store: QueueStore;
  readonly router: Router;
  readonly local: LocalDeliverer;
  readonly retry: RetryOptions;
  readonly logger: QueueLogger;
  /** Called once a message is live in the queue, e.g. to wake the runner. */
  readonly onQueued?: (queueId: string, state: QueueState) => void;
  /** @default () => Date.now() */
  readonly nowMs?: () => number;
}

/** Stores accepted mail: local recipients delivered at once, the queue for the rest. */
export class Intake {
  constructor(private readonly options: IntakeOptions) {}

  /**
   * Checks a recipient at RCPT: local ones by their mailbox; remote ones are the relay's. An alias
   * is accepted on the aliases file's word: a local target without a mailbox fails at delivery.
   */
  async checkRecipient(forwardPath: string): Promise<Reply | undefined> {
    const resolved = this.options.router.resolve(forwardPath);
    if (resolved.kind === 'refused') return resolved.reply;
    return resolved.kind === 'mailbox' ? this.options.local.checkRecipient(resolved.mailbox) : undefined;
  }

  /**
   * Starts a message: its recipients' final addresses (aliases expanded), then either its copy
   * in the one local mailbox they share, or its spool file in the queue's tmp/.
   */
  async open(envelope: IntakeEnvelope): Promise<{ ok: true; writer: IntakeWriter | DirectWriter } | { ok: false; reply: Reply }> {
    const { targets, expansions } = finalTargets(envelope.recipients, this.options.router);
    try {
      const writer = (await this.openDirect(envelope, targets)) ?? new IntakeWriter(this.options, envelope, targets, await this.options.store.createSpool());
      for (const e of expansions) this.options.logger.info({ queueId: writer.queueId, ...e }, 'alias expanded');
      return { ok: true, writer };
    } catch (err) {
      this.options.logger.error({ err: errnoCode(err) }, 'cannot create spool file');
      return { ok: false, reply: replies.insufficientStorage() };
    }
  }

  /** The writer into the local mailbox every target shares, when there is one. */
  private async openDirect(envelope: IntakeEnvelope, targets: readonly Target[]): Promise<DirectWriter | undefined> {
    const mailboxes: string[] = [];
    for (const target of targets) {
      const route = target.refusal ? undefined : this.options.router.route(target.address);
      if (route?.kind !== 'local') return undefined;
      mailboxes.push(route.mailbox);
    }
    const queueId = newQueueId();
    const delivery = await this.options.local.openCopy?.({ queueId, reversePath: envelope.reversePath }, mailboxes);
    return delivery && new DirectWriter(queueId, delivery, this.options.logger);
  }
}

/** One final recipient of a message: an address to deliver to, or why it cannot be. */
interface Target extends RecipientAddress {
  readonly refusal?: Reply;
}

/**
 * The recipients to store: each RCPT address with its aliases expanded (postmaster completed),
 * every final address once, in RCPT order, and the expansions made, for the log. The queue holds
 * these; nothing expands them again.
 */
function finalTargets(recipients: readonly string[], router: Router): { targets: Target[]; expansions: { rcpt: string; targets: readonly string[] }[] } {
  const targets = new Map<string, Target>();
  const expansions: { rcpt: string; targets: readonly string[] }[] = [];
  for (const rcpt of recipients) {
    const resolved = router.resolve(rcpt);
    const addresses = resolved.kind === 'alias' ? resolved.targets : [resolved.kind === 'mailbox' ? resolved.mailbox : rcpt];
    if (resolved.kind === 'alias') expansions.push({ rcpt, targets: addresses });
    for (const address of addresses) {
      if (targets.has(address)) continue;
      const refusal = resolved.kind === 'refused' ? resolved.reply : undefined;
      targets.set(address, { address, ...(address === rcpt ? {} : { originalRecipient: rcpt }), ...(refusal ? { refusal } : {}) });
    }
  }
  return { targets: [...targets.values()], expansions };
}

/** A message written straight into its local mailbox: acknowledged once its file is durable in new/. */
export class DirectWriter {
  private stage: 'open' | 'committing' | 'closed' = 'open';

  constructor(
    readonly queueId: string,
    private readonly delivery: DirectDelivery,
    private readonly logger: QueueLogger,
  ) {}

  get body(): DirectDelivery['body'] {
    return this.delivery.body;
  }

  async commit(): Promise<CommitResult> {
    if (this.stage !== 'open') throw new Error(`Cannot commit message "${this.queueId}": already ${this.stage}`);
    this.stage = 'committing';
    const outcome = await this.delivery.commit();
    this.stage = 'closed';
    if (outcome.kind === 'delivered') return { ok: true, queueId: this.queueId };
    // Nothing was kept: the client still holds the message and retries it.
    this.logger.warn({ queueId: this.queueId, code: outcome.reply.code }, 'message refused: mailbox write failed');
    return { ok: false, reply: outcome.reply.code >= 400 && outcome.reply.code < 500 ? outcome.reply : replies.insufficientStorage() };
  }

  async abort(): Promise<void> {
    if (this.stage !== 'open') return;
    this.stage = 'closed';
    await this.delivery.discard();
  }
}

/** One message being received: its spool, written by the server, then committed or aborted. */
export class IntakeWriter {
  readonly body: FileSink;
  private stage: 'open' | 'committing' | 'closed' = 'open';
  private spoolClosed = false;

  constructor(
    private readonly options: IntakeOptions,
    private readonly envelope: IntakeEnvelope,
    private readonly targets: readonly Target[],
    private readonly spool: Spool,
  ) {
    this.body = new FileSink(spool.fd);
  }

  get queueId(): string {
    return this.spool.queueId;
  }

  async commit(): Promise<CommitResult> {
    if (this.stage !== 'open') throw new Error(`Cannot commit message "${this.queueId}": already ${this.stage}`);
    this.stage = 'committing';
    try {
      return await this.store();
    } finally {
      this.stage = 'closed';
    }
  }

  async abort(): Promise<void> {
    // An abort racing a commit must not undo it: the commit finishes and decides alone.
    if (this.stage !== 'open') return;
    this.stage = 'closed';
    this.body.destroy();
    this.closeSpool();
    await this.options.store.discardSpool(this.spool);
  }

  private async store(): Promise<CommitResult> {
    const log = this.options.logger;
    if (!this.body.writableEnded) this.body.end();
    await finished(this.body).catch((err: unknown) => (this.body.failure ??= err));
    const closeFailure = this.closeSpool();
    this.body.failure ??= closeFailure;
    if (this.body.failure !== undefined) {
      log.error({ queueId: this.queueId, err: errnoCode(this.body.failure) }, 'cannot write spool file');
      return this.refuse();
    }
    // The message arrives when its data is complete: max_queue_lifetime and retries count from here.
    const arrivedAtMs = this.now();
    const recipients = await this.deliverLocally(arrivedAtMs);
    const envelope = this.queueEnvelope(recipients, arrivedAtMs);
    if (folderFor(envelope) === 'done') {
      await this.options.store.discardSpool(this.spool);
      return { ok: true, queueId: this.queueId };
    }
    try {
      const state = await this.options.store.commitSpool(this.spool, envelope);
      log.info({ queueId: this.queueId, state, size: this.body.bytesWritten }, 'message queued');
      this.options.onQueued?.(this.queueId, state);
      return { ok: true, queueId: this.queueId };
    } catch (err) {
      const delivered = recipients.filter((r) => r.status === 'delivered').length;
      // Refusing after some local deliveries means duplicates when the client retries; accepting
      // would lose the others. Duplicates are the lesser harm.
      log.error({ queueId: this.queueId, err: errnoCode(err), deliveredLocally: delivered }, 'cannot queue message');
      return this.refuse();
    }
  }

  /** Closes the spool's data file once; returns the error, if closing failed. */
  private closeSpool(): unknown {
    if (this.spoolClosed) return undefined;
    this.spoolClosed = true;
    try {
      closeSync(this.spool.fd);
      return undefined;
    } catch (err) {
      return err;
    }
  }

  private async refuse(): Promise<CommitResult> {
    await this.options.store.discardSpool(this.spool);
    return { ok: false, reply: replies.insufficientStorage() };
  }

  /** Delivers the local recipients in one batch; returns every recipient with its queue status, in RCPT order. */
  private async deliverLocally(arrivedAtMs: number): Promise<QueueRecipient[]> {
    const targets = this.targets;
    const outcomes = await this.deliverBatch(targets);
    const at = { attempts: 1, arrivedAtMs, nowMs: this.now(), retry: this.options.retry };
    return targets.map((target) => {
      const { refusal, ...who } = target;
      // A refusal found only now (the aliases changed since RCPT) fails that recipient alone.
      const outcome = refusal ? { kind: 'permanent' as const, reply: refusal } : outcomes.get(target);
      if (outcome === undefined) return { ...who, status: 'pending' };
      const recipient = recordOutcome(who, outcome, at);
      if (recipient.status === 'failed') this.options.logger.warn({ queueId: this.queueId, rcpt: who.address, code: recipient.lastReply.code }, 'local delivery failed');
      return recipient;
    });
  }

  /** Hands the local targets to the local deliverer in one batch (one file, hard-linked); remote ones wait. */
  private async deliverBatch(targets: readonly Target[]): Promise<Map<Target, DeliveryOutcome>> {
    const local = new Map<Target, string>();
    for (const target of targets) {
      const route = target.refusal ? undefined : this.options.router.route(target.address);
      if (route?.kind === 'local') local.set(target, route.mailbox);
    }
    const outcomes = new Map<Target, DeliveryOutcome>();
    if (local.size === 0) return outcomes;
    const message = { dataPath: this.spool.dataPath, reversePath: this.envelope.reversePath, queueId: this.queueId, bodyType: this.envelope.bodyType, sizeBytes: this.body.bytesWritten };
    const results = await this.options.local.deliver(message, [...local.values()]);
    [...local.keys()].forEach((target, i) => outcomes.set(target, results[i] ?? { kind: 'transient', reply: replies.localError() }));
    return outcomes;
  }

  private queueEnvelope(recipients: QueueRecipient[], arrivedAtMs: number): QueueEnvelope {
    const e = this.envelope;
    return {
      version: ENVELOPE_VERSION,
      queueId: this.queueId,
      reversePath: e.reversePath,
      recipients,
      arrivedAt: new Date(arrivedAtMs).toISOString(),
      attempts: recipients.some((r) => r.status !== 'pending') ? 1 : 0,
      client: { address: e.client.address, helo: e.client.helo, ptr: e.client.ptr },
      bodyType: e.bodyType,
      size: this.body.bytesWritten,
    };
  }

  private now(): number {
    return (this.options.nowMs ?? Date.now)();
  }
}
