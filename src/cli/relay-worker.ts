// A relay worker process. Relay worker 0 runs the queue: the runner (retries, bounces, local
// deliveries) and the maildrop pickup of sendmail's files. Each remote destination belongs to one
// relay worker (relay/split.ts), so that one mail host gets one session across all of them:
// worker 0 delivers its own destinations and asks the others, through the supervisor, to deliver
// theirs. Woken by the supervisor when an SMTP worker queued a message, and otherwise by the
// runner's own timer (which also notices `mta queue flush`).
import { flushLogger, WorkerLog, workerLogger } from '../log/logger.js';
import type { Maildrop } from '../queue/maildrop.js';
import type { QueueRunner } from '../queue/runner.js';
import type { Relay } from '../relay/relay.js';
import { DestinationSplit, parseRequest, type RecipientDeliverer, RemoteWorker } from '../relay/split.js';
import type { Inbox, StartMessage } from '../system/inbox.js';
import { answerPeer, PeerQuestions, tellSupervisor, type ToWorker } from '../system/ipc.js';
import { buildMaildrop, buildRelay, buildRunner, type Running } from './wiring.js';

/** What a relay worker runs: its relay, and in worker 0 the queue runner and the maildrop pickup. */
interface Parts {
  readonly relay: Relay;
  readonly runner?: QueueRunner;
  readonly maildrop?: Maildrop;
}

/** Runs the worker until asked to drain; resolves with the exit code. */
export function relayWorker({ config: running, index, count }: StartMessage<Running>, inbox: Inbox<Running>): Promise<number> {
  const log = new WorkerLog(running.config.log.file);
  const logger = workerLogger(log, running.config.log.level, { role: 'relay', relayWorker: `${index}/${count}` });
  const questions = new PeerQuestions();
  /** Deliveries asked by worker 0 and under way here. */
  const jobs = new Set<Promise<void>>();
  const build = (r: Running): Parts => {
    const relay = buildRelay(r.config, logger.child({ component: 'relay' }));
    if (index !== 0) return { relay };
    const peers: RecipientDeliverer[] = Array.from({ length: count }, (_, i) => (i === 0 ? relay : new RemoteWorker((job) => questions.askPeer(i, job))));
    const remote = count > 1 ? new DestinationSplit(peers, (domain) => relay.destinationOf(domain)) : relay;
    const queueLogger = logger.child({ component: 'queue' });
    const onQueued = (queueId: string) => tellSupervisor({ type: 'wake', id: queueId });
    const runner = buildRunner(r.config, queueLogger, { onQueued, aliases: r.aliases }, remote, (domain) => relay.destinationOf(domain));
    const maildrop = buildMaildrop(r.config, queueLogger, onQueued, { aliases: r.aliases });
    runner.start();
    void maildrop.start();
    return { relay, runner, maildrop };
  };
  /** Stops the parts in order: nothing new picked up, deliveries under way finished, then the idle sessions closed. */
  const stop = async ({ relay, runner, maildrop }: Parts) => {
    await Promise.all([maildrop?.stop(), runner?.stop(), ...jobs]);
    await relay.close();
  };
  let parts = build(running);
  let reconfiguring = Promise.resolve();
  return new Promise((resolve) => {
    let draining = false;
    const drain = (why: string) => {
      if (draining) return;
      draining = true;
      logger.info({ why }, 'worker draining');
      // A delivery in progress finishes; the supervisor kills the worker at the shutdown deadline.
      void reconfiguring
        .then(() => stop(parts))
        .then(() => logger.info('worker stopped'))
        .then(() => flushLogger(logger))
        .then(() => resolve(0));
    };
    const deliverFor = (message: Extract<ToWorker<Running>, { type: 'ask' }>) => {
      const job = parseRequest(message.payload);
      if (job && 'forgetFailures' in job) {
        parts.relay.forgetFailures();
        return answerPeer(message.from, message.request, true);
      }
      // Nothing new once draining: the asker defers, and the next runner asks again.
      if (!job || draining) return answerPeer(message.from, message.request, undefined);
      const done = parts.relay.deliver(job.message, job.recipients).then(
        (outcomes) => answerPeer(message.from, message.request, outcomes),
        (err: unknown) => {
          logger.error({ err: err instanceof Error ? err.message : String(err), queueId: job.message.queueId }, 'relay delivery failed');
          answerPeer(message.from, message.request, undefined);
        },
      );
      jobs.add(done);
      void done.finally(() => jobs.delete(done));
    };
    inbox.attach((message) => {
      if (message.type === 'answer') return questions.answer(message.request, message.payload);
      if (draining) return;
      if (message.type === 'wake') parts.runner?.wake(message.id);
      else if (message.type === 'ask') deliverFor(message);
      else if (message.type === 'drain') drain('supervisor');
      else if (message.type === 'reopen-log') log.reopen();
      else if (message.type === 'config') {
        // The retry policy and the relay's options are fixed per instance: replace them once the work under way ends.
        reconfiguring = reconfiguring.then(async () => {
          await stop(parts);
          logger.level = message.config.config.log.level;
          if (!draining) parts = build(message.config);
          logger.info('worker reconfigured');
        });
      }
    });
    process.once('disconnect', () => {
      questions.abandon();
      drain('supervisor gone');
    });
    process.on('SIGTERM', () => drain('SIGTERM'));
    logger.info('worker started');
    tellSupervisor({ type: 'ready' });
  });
}
