// A relay worker process: runs the queue runner over its share of the queue. With relay.workers
// = N, worker i owns the messages whose queue id hashes to i (partitionOf), so no message is
// ever attempted by two processes. Woken by the supervisor when an SMTP worker queued a message,
// and otherwise by the runner's own timer (which also notices `mta queue flush`).
// Relay worker 0 also picks up what sendmail drops into the maildrop folder (one picker, so a
// file is never queued twice), and tells the supervisor of each message it queued.
import type { Config } from '../config/types.js';
import { flushLogger, type Logger, workerLogger } from '../log/logger.js';
import type { Maildrop } from '../queue/maildrop.js';
import type { Inbox, StartMessage } from '../system/inbox.js';
import { tellSupervisor } from '../system/ipc.js';
import { buildMaildrop, buildRelay, buildRunner, type Running } from './wiring.js';

/** Runs the worker until asked to drain; resolves with the exit code. */
export function relayWorker({ config: running, index, count }: StartMessage<Running>, inbox: Inbox<Running>): Promise<number> {
  const { config } = running;
  const logger = workerLogger(config.log.level, { role: 'relay', partition: `${index}/${count}` });
  const queueLogger = logger.child({ component: 'queue' });
  const build = (c: Config) => {
    const relay = buildRelay(c, logger.child({ component: 'relay' }));
    const onQueued = (queueId: string) => tellSupervisor({ type: 'wake', id: queueId });
    return { relay, runner: buildRunner(c, queueLogger, index, count, { onQueued }, relay) };
  };
  let { relay, runner } = build(config);
  let maildrop = index === 0 ? startMaildrop(running, queueLogger) : undefined;
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
        .then(() => maildrop?.stop())
        .then(() => runner.stop())
        .then(() => relay.close())
        .then(() => logger.info('worker stopped'))
        .then(() => flushLogger(logger))
        .then(() => resolve(0));
    };
    inbox.attach((message) => {
      if (draining) return;
      if (message.type === 'wake') runner.wake(message.id);
      else if (message.type === 'drain') drain('supervisor');
      else if (message.type === 'config') {
        // The retry policy is fixed per runner: replace the runner once its pass in progress ends.
        reconfiguring = reconfiguring.then(async () => {
          await Promise.all([runner.stop(), maildrop?.stop()]);
          await relay.close();
          // The runner never expands aliases (stored recipients are final): only the config matters.
          logger.level = message.config.config.log.level;
          ({ relay, runner } = build(message.config.config));
          if (maildrop && !draining) maildrop = startMaildrop(message.config, queueLogger);
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

/** Starts the maildrop pickup in the background (aliases expanded as for SMTP); its own problems are logged by it. */
function startMaildrop({ config, aliases }: Running, logger: Logger): Maildrop {
  const maildrop = buildMaildrop(config, logger, (queueId) => tellSupervisor({ type: 'wake', id: queueId }), { aliases });
  void maildrop.start();
  return maildrop;
}
