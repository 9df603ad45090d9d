// Entry of a worker process: the same program, re-executed by the supervisor with MTA_ROLE set.
// It waits for the 'start' message carrying the config in force, then becomes an SMTP or a relay
// worker. Workers ignore SIGINT, SIGHUP and SIGUSR1: the supervisor handles those for all.
import type { Config } from '../config/types.js';
import { isMessage, ROLE_ENV, type ToWorker, type WorkerRole } from './ipc.js';
import { relayWorker } from './relay-worker.js';
import { smtpWorker } from './smtp-worker.js';

/** The worker role asked for by the environment, or undefined in the supervisor (and every command). */
export function workerRole(): WorkerRole | undefined {
  const role = process.env[ROLE_ENV];
  return role === 'smtp' || role === 'relay' ? role : undefined;
}

/** Runs a worker to its end and exits the process with its code. */
export async function runWorker(role: WorkerRole): Promise<number> {
  if (!process.send) {
    process.stderr.write(`mta: ${ROLE_ENV} is set but there is no supervisor; unset it to run mta\n`);
    return 1;
  }
  for (const signal of ['SIGINT', 'SIGHUP', 'SIGUSR1'] as const) process.on(signal, () => undefined);
  const start = await nextStart();
  const code = role === 'smtp' ? await smtpWorker(start.config) : await relayWorker(start.config, start.index, start.count);
  // The IPC channel would keep the process alive; logs are flushed by now.
  process.exit(code);
}

function nextStart(): Promise<{ config: Config; index: number; count: number }> {
  return new Promise((resolve) => {
    // Without a supervisor there is nothing to wait for.
    const orphaned = () => process.exit(1);
    const onMessage = (message: unknown) => {
      if (!isMessage<ToWorker>(message) || message.type !== 'start') return;
      process.off('message', onMessage);
      process.off('disconnect', orphaned);
      resolve(message);
    };
    process.on('message', onMessage);
    process.once('disconnect', orphaned);
  });
}
