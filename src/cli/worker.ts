// Entry of a worker process: the same program, re-executed by the supervisor with MTA_ROLE set.
// It waits for the 'start' message carrying the config in force, then becomes an SMTP or a relay
// worker. Workers ignore SIGINT, SIGHUP and SIGUSR1: the supervisor handles those for all.
import { isMessage, ROLE_ENV, type ToWorker, type WorkerRole } from './ipc.js';
import { relayWorker } from './relay-worker.js';
import { smtpWorker } from './smtp-worker.js';

/** The worker role asked for by the environment, or undefined in the supervisor (and every command). */
export function workerRole(): WorkerRole | undefined {
  const role = process.env[ROLE_ENV];
  return role === 'smtp' || role === 'relay' ? role : undefined;
}

/** Handles one message from the supervisor; `handle` is the socket of a 'conn' message. */
export type MessageHandler = (message: ToWorker, handle: unknown) => void;

/**
 * The worker's end of the channel. Listens from the first moment and keeps what arrives before the
 * role has attached its handler: a 'drain' right behind 'start' must not be lost.
 */
export class Inbox {
  private pending: [ToWorker, unknown][] = [];
  private handler: MessageHandler | undefined;
  readonly start: Promise<Extract<ToWorker, { type: 'start' }>>;

  constructor() {
    this.start = new Promise((resolve) => {
      process.on('message', (message: unknown, handle: unknown) => {
        if (!isMessage<ToWorker>(message)) return;
        if (message.type === 'start') resolve(message);
        else if (this.handler) this.handler(message, handle);
        else this.pending.push([message, handle]);
      });
    });
  }

  /** Delivers the messages kept so far, then every later one, to `handler`. */
  attach(handler: MessageHandler): void {
    this.handler = handler;
    for (const [message, handle] of this.pending.splice(0)) handler(message, handle);
  }
}

/** Runs a worker to its end and exits the process with its code. */
export async function runWorker(role: WorkerRole): Promise<number> {
  if (!process.send) {
    process.stderr.write(`mta: ${ROLE_ENV} is set but there is no supervisor; unset it to run mta\n`);
    return 1;
  }
  for (const signal of ['SIGINT', 'SIGHUP', 'SIGUSR1'] as const) process.on(signal, () => undefined);
  const inbox = new Inbox();
  // Without a supervisor there is nothing to wait for; once started, the role drains instead.
  const orphaned = () => process.exit(1);
  process.once('disconnect', orphaned);
  const start = await inbox.start;
  process.off('disconnect', orphaned);
  const code = role === 'smtp' ? await smtpWorker(start.config, inbox) : await relayWorker(start.config, inbox, start.index, start.count);
  // The IPC channel would keep the process alive; logs are flushed by now.
  process.exit(code);
}
