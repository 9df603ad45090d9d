// The worker end of the supervisor's channel. A worker is the same program, re-executed by the
// supervisor with MTA_ROLE set; it waits for the 'start' message carrying the config in force,
// then runs its role. Workers ignore SIGINT, SIGHUP and SIGUSR1: the supervisor handles those.
import { parseToWorker, ROLE_ENV, type ToWorker, type WorkerRole } from './ipc.js';

/** The worker role asked for by the environment, or undefined in the supervisor (and every command). */
export function workerRole(): WorkerRole | undefined {
  const role = process.env[ROLE_ENV];
  return role === 'smtp' || role === 'relay' ? role : undefined;
}

/** How long an orphaned worker may take to abandon its work before it is ended. */
const ORPHAN_EXIT_MS = 1000;
/** How often a worker checks that its channel to the supervisor is still there. */
const CHANNEL_CHECK_MS = 500;

/** Handles one message from the supervisor; `handle` is the socket of a 'conn' message. */
export type MessageHandler<C> = (message: ToWorker<C>, handle: unknown) => void;

/** The 'start' message: the config in force and the worker's place among its role. */
export type StartMessage<C> = Extract<ToWorker<C>, { type: 'start' }>;

/**
 * The worker's end of the channel. Listens from the first moment and keeps what arrives before the
 * role has attached its handler: a 'drain' right behind 'start' must not be lost.
 */
export class Inbox<C> {
  private pending: [ToWorker<C>, unknown][] = [];
  private handler: MessageHandler<C> | undefined;
  readonly start: Promise<StartMessage<C>>;

  constructor() {
    this.start = new Promise((resolve) => {
      process.on('message', (value: unknown, handle: unknown) => {
        const message = parseToWorker<C>(value);
        if (!message) return;
        if (message.type === 'start') resolve(message);
        else if (this.handler) this.handler(message, handle);
        else this.pending.push([message, handle]);
      });
    });
  }

  /** Delivers the messages kept so far, then every later one, to `handler`. */
  attach(handler: MessageHandler<C>): void {
    this.handler = handler;
    for (const [message, handle] of this.pending.splice(0)) handler(message, handle);
  }
}

/** Runs a worker role to its end and exits the process with its code. */
export async function runWorker<C>(role: (start: StartMessage<C>, inbox: Inbox<C>) => Promise<number>): Promise<never> {
  if (!process.send) {
    process.stderr.write(`mta: ${ROLE_ENV} is set but there is no supervisor; unset it to run mta\n`);
    process.exit(1);
  }
  for (const signal of ['SIGINT', 'SIGHUP', 'SIGUSR1'] as const) process.on(signal, () => undefined);
  watchChannel();
  const inbox = new Inbox<C>();
  // Without a supervisor there is nothing to wait for; once started, the role drains instead.
  const orphaned = () => process.exit(1);
  process.once('disconnect', orphaned);
  const start = await inbox.start;
  process.off('disconnect', orphaned);
  // A worker whose supervisor is gone (killed, crashed) must not outlive it: it may not run the
  // queue beside a restarted daemon. The role abandons its work at once; this is the backstop.
  process.once('disconnect', () => setTimeout(() => process.exit(1), ORPHAN_EXIT_MS));
  const code = await role(start, inbox);
  // The IPC channel would keep the process alive; logs are flushed by now.
  process.exit(code);
}

/**
 * Node emits no 'disconnect' when the channel closes while a handle the worker sent still waits
 * for the supervisor's acknowledgement: an SMTP worker that lent its listening socket just as the
 * supervisor died would serve on, orphaned, holding the port. `process.connected` turns false
 * all the same, so it is checked, and the one orphan path runs.
 */
function watchChannel(): void {
  const timer = setInterval(() => {
    if (process.connected) return;
    clearInterval(timer);
    // After a 'disconnect' that did come, its once-listeners are gone: nothing runs twice.
    process.emit('disconnect');
  }, CHANNEL_CHECK_MS).unref();
}
