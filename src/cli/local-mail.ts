// Builds the stores and deliverers for accepted mail from a Config: the queue store, Maildir,
// the MessageSink the server uses and the runner that retries deferred local recipients.
// The only place that knows both queue/ and delivery/ (STYLE 2); no I/O until called.
import type { Config } from '../config/types.js';
import { Maildir } from '../delivery/maildir.js';
import { QueueRunner } from '../queue/queue.js';
import type { Deliverer } from '../queue/queue.js';
import { recoverQueue } from '../queue/recovery.js';
import type { RecoveryReport } from '../queue/recovery.js';
import type { RetryOptions } from '../queue/scheduler.js';
import { QueueStore } from '../queue/store.js';
import { Intake } from './intake.js';
import type { IntakeLogger } from './intake.js';

export interface LocalMailOptions {
  /** Lets delivery run as root; tests only, the daemon never sets it. @default false */
  readonly allowRoot?: boolean;
  /** @default Date.now */
  readonly nowMs?: () => number;
  /** @default 60000 */
  readonly pollIntervalMs?: number;
}

/** The modules that store and deliver accepted mail, wired together. */
export interface LocalMail {
  /** The MessageSink to hand to the SMTP server. */
  readonly sink: Intake;
  /** Retries deferred local recipients; start() it after recover(). */
  readonly runner: QueueRunner;
  readonly store: QueueStore;
  readonly maildir: Maildir;
  /** Creates missing queue folders, clears tmp/, moves corrupt entries aside; once, before serving. */
  recover(): Promise<RecoveryReport>;
}

/** Returns the retry policy of the queue from the config. */
export function retryOptions(config: Config): RetryOptions {
  return {
    retryMinIntervalMs: config.relay.retryMinIntervalMs,
    retryMaxIntervalMs: config.relay.retryMaxIntervalMs,
    maxQueueLifetimeMs: config.relay.maxQueueLifetimeMs,
  };
}

/** Builds the sink, the runner and what they share; throws if running as root without allowRoot. */
export function buildLocalMail(config: Config, logger: IntakeLogger, options: LocalMailOptions = {}): LocalMail {
  const store = new QueueStore(config.queue.root, logger);
  const maildir = new Maildir({
    root: config.maildir.root,
    localDomains: config.domains,
    recipientDelimiter: config.maildir.recipientDelimiter,
    createMailboxes: config.maildir.createMailboxes,
    allowRoot: options.allowRoot,
    logger,
  });
  const deliverer: Deliverer = {
    async deliver(message, recipient) {
      const spooled = { dataPath: message.dataPath, reversePath: message.reversePath, queueId: message.queueId };
      const [result] = await maildir.deliver(spooled, [recipient]);
      if (result === undefined) throw new RangeError(`No delivery result for "${recipient}"`);
      return result;
    },
  };
  const retry = retryOptions(config);
  const runner = new QueueRunner({
    store,
    deliverer,
    handles: (address) => maildir.isLocal(address),
    retry,
    logger,
    pollIntervalMs: options.pollIntervalMs,
    nowMs: options.nowMs,
  });
  const sink = new Intake({ store, maildir, retry, logger, nowMs: options.nowMs, onQueued: () => runner.wake() });
  return { sink, runner, store, maildir, recover: () => recoverQueue(store, logger) };
}
