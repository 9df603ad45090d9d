// The MessageSink the SMTP server stores mail through: local recipients are delivered into
// Maildir at once, whatever remains is committed to the queue, and only then is the message
// acknowledged (DESIGN.md, the durability rule). Joins queue/ and delivery/, which never meet.
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FileHandle } from 'node:fs/promises';
import { replies } from '../smtp/reply.js';
import type { Reply } from '../smtp/reply.js';
import type { CommitResult, IncomingEnvelope, MessageSink, MessageWriter } from '../server/message-sink.js';
import type { DeliveryLogger, DeliveryResult, Maildir } from '../delivery/maildir.js';
import { ENVELOPE_VERSION } from '../queue/envelope.js';
import type { QueueEnvelope, QueueRecipient } from '../queue/envelope.js';
import { afterTransientFailure } from '../queue/scheduler.js';
import type { RetryOptions } from '../queue/scheduler.js';
import { folderFor } from '../queue/states.js';
import type { QueueLogger, QueueState } from '../queue/states.js';
import type { QueueStore, Spool } from '../queue/store.js';

/** The logger the intake and the modules it joins write to (pino fits). */
export type IntakeLogger = QueueLogger & DeliveryLogger;

export interface IntakeOptions {
  readonly store: QueueStore;
  readonly maildir: Maildir;
  readonly retry: RetryOptions;
  readonly logger: IntakeLogger;
  /** Called once a message is live in the queue, e.g. to wake the runner. */
  readonly onQueued?: (queueId: string, state: QueueState) => void;
  /** @default () => Date.now() */
  readonly nowMs?: () => number;
}

/** Stores accepted mail: Maildir for local recipients, the queue for the rest. */
export class Intake implements MessageSink {
  constructor(private readonly options: IntakeOptions) {}

  /** Checks a recipient at RCPT; only local recipients can be refused here. */
  checkRecipient(forwardPath: string): Promise<Reply | undefined> {
    return this.options.maildir.checkRecipient(forwardPath);
  }

  /** Starts a message: assigns its queue id and opens its spool file in the queue's tmp/. */
  async open(envelope: IncomingEnvelope): Promise<MessageWriter> {
    let spool: Spool;
    try {
      spool = await this.options.store.createSpool();
    } catch (err) {
      this.options.logger.error({ err: errorCode(err) }, 'cannot create spool file');
      throw Object.assign(new Error('Cannot create spool file'), { reply: replies.mailboxUnavailable() });
    }
    return new IntakeWriter(this.options, envelope, spool);
  }
}

/** Writes into the spool; a write error is remembered and reported at commit, not mid-DATA. */
class SpoolBody extends Writable {
  sizeBytes = 0;
  failure: unknown;

  constructor(private readonly handle: FileHandle) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    // After a failure the rest of DATA is read and dropped, so the client still gets a 452.
    if (this.failure !== undefined) return done();
    this.writeAll(chunk).then(
      () => done(),
      (err: unknown) => {
        this.failure = err;
        done();
      },
    );
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) offset += (await this.handle.write(chunk, offset)).bytesWritten;
    this.sizeBytes += chunk.length;
  }
}

class IntakeWriter implements MessageWriter {
  readonly body: SpoolBody;
  private stage: 'open' | 'committing' | 'closed' = 'open';

  constructor(
    private readonly options: IntakeOptions,
    private readonly envelope: IncomingEnvelope,
    private readonly spool: Spool,
  ) {
    this.body = new SpoolBody(spool.handle);
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
    await this.spool.handle.close().catch(() => undefined);
    await this.options.store.discardSpool(this.spool);
  }

  private async store(): Promise<CommitResult> {
    const log = this.options.logger;
    if (!this.body.writableEnded) this.body.end();
    await finished(this.body).catch((err: unknown) => (this.body.failure ??= err));
    await this.spool.handle.close().catch((err: unknown) => (this.body.failure ??= err));
    if (this.body.failure !== undefined) {
      log.error({ queueId: this.queueId, err: errorCode(this.body.failure) }, 'cannot write spool file');
      return this.refuse();
    }
    const recipients = await this.deliverLocally();
    const envelope = this.queueEnvelope(recipients);
    if (folderFor(envelope) === 'done') {
      await this.options.store.discardSpool(this.spool);
      return { ok: true, queueId: this.queueId };
    }
    try {
      const state = await this.options.store.commitSpool(this.spool, envelope);
      log.info({ queueId: this.queueId, state, size: this.body.sizeBytes }, 'message queued');
      this.options.onQueued?.(this.queueId, state);
      return { ok: true, queueId: this.queueId };
    } catch (err) {
      const delivered = recipients.filter((r) => r.status === 'delivered').length;
      // Refusing after some local deliveries means duplicates when the client retries; accepting
      // would lose the others. Duplicates are the lesser harm.
      log.error({ queueId: this.queueId, err: errorCode(err), deliveredLocally: delivered }, 'cannot queue message');
      return this.refuse();
    }
  }

  private async refuse(): Promise<CommitResult> {
    await this.options.store.discardSpool(this.spool);
    return { ok: false, reply: replies.mailboxUnavailable() };
  }

  /** Delivers the local recipients and returns every recipient with its queue status, in RCPT order. */
  private async deliverLocally(): Promise<QueueRecipient[]> {
    const { maildir } = this.options;
    const local = this.envelope.recipients.filter((r) => maildir.isLocal(r));
    const results = new Map<string, DeliveryResult>();
    if (local.length > 0) {
      const message = { dataPath: this.spool.dataPath, reversePath: this.envelope.reversePath, queueId: this.queueId };
      const outcomes = await maildir.deliver(message, local);
      local.forEach((rcpt, i) => results.set(rcpt, outcomes[i] ?? { kind: 'transient', reply: replies.localError() }));
    }
    return this.envelope.recipients.map((address) => this.toRecipient(address, results.get(address)));
  }

  private toRecipient(address: string, result: DeliveryResult | undefined): QueueRecipient {
    const nowMs = (this.options.nowMs ?? Date.now)();
    if (result === undefined) return { address, status: 'pending' };
    if (result.kind === 'delivered') return { address, status: 'delivered', deliveredAt: new Date(nowMs).toISOString() };
    if (result.kind === 'permanent') {
      this.options.logger.warn({ queueId: this.queueId, rcpt: address, code: result.reply.code }, 'local delivery failed');
      return { address, status: 'failed', lastReply: result.reply };
    }
    const decision = afterTransientFailure(1, this.envelope.receivedAt.getTime(), nowMs, this.options.retry);
    const atMs = decision.kind === 'retry' ? decision.atMs : nowMs;
    return { address, status: 'deferred', lastReply: result.reply, nextAttemptAt: new Date(atMs).toISOString() };
  }

  private queueEnvelope(recipients: QueueRecipient[]): QueueEnvelope {
    const e = this.envelope;
    return {
      version: ENVELOPE_VERSION,
      queueId: this.queueId,
      reversePath: e.reversePath,
      recipients,
      arrivedAt: e.receivedAt.toISOString(),
      attempts: recipients.some((r) => r.status !== 'pending') ? 1 : 0,
      client: { address: e.client.address, helo: e.client.helo, ptr: e.client.ptr },
      bodyType: e.bodyType,
      size: this.body.sizeBytes,
    };
  }
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}
