// A relay worker process: runs the queue runner over its share of the queue. With relay.workers
// = N, worker i handles the messages whose queue id hashes to i (partitionOf), so no message is
// ever attempted by two processes. Woken by the supervisor when an SMTP worker queued a message,
// and otherwise by the runner's own timer (which also notices `mta queue flush`).
import type { Config } from '../config/types.js';
import { flushLogger, type Logger, workerLogger } from '../log/logger.js';
import type { QueueRunner } from '../queue/queue.js';
import type { QueueStore } from '../queue/store.js';
import { partitionOf, tellSupervisor } from './ipc.js';
import { buildLocalMail } from './local-mail.js';
import type { Inbox } from './worker.js';

/** Runs the worker until asked to drain; resolves with the exit code. */
export function relayWorker(config: Config, inbox: Inbox, index: number, count: number): Promise<number> {
  const logger = workerLogger(config.log.level, { role: 'relay', partition: `${index}/${count}` });
  let runner = buildRunner(config, logger, index, count);
  let reconfiguring = Promise.resolve();
  runner.start();
  return new Promise((resolve) => {
    let draining = false;
    const drain = (why: string) => {
      if (draining) return;
      draining = true;
      logger.info({ why }, 'worker draining');
      // A delivery in progress finishes; the supervisor kills the worker at the shutdown deadline.
      void reconfiguring
        .then(() => runner.stop())
        .then(() => logger.info('worker stopped'))
        .then(() => flushLogger(logger))
        .then(() => resolve(0));
    };
    inbox.attach((message) => {
      if (draining) return;
      if (message.type === 'wake') runner.wake();
      else if (message.type === 'drain') drain('supervisor');
      else if (message.type === 'config') {
        // The retry policy is fixed per runner: replace the runner once its scan in progress ends.
        reconfiguring = reconfiguring.then(async () => {
          await runner.stop();
          logger.level = message.config.log.level;
          runner = buildRunner(message.config, logger, index, count);
          if (!draining) runner.start();
          logger.info('worker reconfigured');
        });
      }
    });
    process.once('disconnect', () => drain('supervisor gone'));
    process.on('SIGTERM', () => drain('SIGTERM'));
    logger.info('worker started');
    tellSupervisor({ type: 'ready' });
  });
}

function buildRunner(config: Config, logger: Logger, index: number, count: number): QueueRunner {
  const mail = buildLocalMail(config, logger.child({ component: 'queue' }));
  if (count > 1) partition(mail.store, index, count);
  return mail.runner;
}

/** Narrows what the runner sees of the store to this worker's share of the queue. */
function partition(store: QueueStore, index: number, count: number): void {
  const list = store.list.bind(store);
  store.list = async () => (await list()).filter((m) => partitionOf(m.envelope.queueId, count) === index);
}
