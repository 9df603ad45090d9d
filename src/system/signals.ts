// The daemon's signals, caught from the first moment of start-up so that none has its default
// effect while mta is still binding or recovering: SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR1
// reopens the log. Knows nothing of what a reload or a stop does.

/**
 * Catches SIGTERM/SIGINT (stop), SIGHUP (reload) and SIGUSR1 (reopen) from the start: a signal
 * that arrives while start-up is still binding or recovering must not kill the process. A stop is
 * remembered; a reload or reopen asked for before serving runs once the supervisor is serving.
 */
export class SignalCatcher {
  readonly stop: Promise<NodeJS.Signals>;
  private readonly handlers: Partial<Record<'SIGHUP' | 'SIGUSR1', () => void>> = {};
  private readonly pending = new Set<'SIGHUP' | 'SIGUSR1'>();

  constructor() {
    // The handlers stay installed: a second SIGTERM cannot kill a draining supervisor either.
    this.stop = new Promise((resolve) => {
      for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, resolve);
    });
    for (const s of ['SIGHUP', 'SIGUSR1'] as const) {
      process.on(s, () => {
        const handler = this.handlers[s];
        if (handler) handler();
        else this.pending.add(s);
      });
    }
  }

  /** Sets what SIGHUP or SIGUSR1 does from now on, and does it now if it was asked for already. */
  on(signal: 'SIGHUP' | 'SIGUSR1', handler: () => void): void {
    this.handlers[signal] = handler;
    if (this.pending.delete(signal)) handler();
  }
}
