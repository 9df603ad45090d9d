// Outbound sessions kept open between messages, at most one per server address and port: a
// session has one owner at a time, returns to the pool only after RSET was answered 250 (STYLE
// §8), and is closed after a short idle time or a number of messages. Callers for an address
// whose session is busy wait for it rather than opening another.
import type { SmtpClient } from './smtp-client.js';
import type { ServerFeatures } from './transaction.js';

/** An open session: the connection and what its server offered after EHLO (and STARTTLS). */
export interface Session {
  readonly client: SmtpClient;
  readonly features: ServerFeatures;
}

export interface PoolOptions {
  /** How long an unused session stays open. */
  readonly idleMs: number;
  /** Messages after which a session is closed rather than reused. */
  readonly maxMessagesPerSession: number;
}

/** One owner per key ("address port"), and the idle session of each key, if any. */
export class SessionPool {
  private readonly idle = new Map<string, { session: Session; timer: NodeJS.Timeout }>();
  private readonly busy = new Map<string, (() => void)[]>();

  constructor(private readonly options: PoolOptions) {}

  /** Waits until nobody else uses `key`; returns its idle session, or undefined to open one. */
  async acquire(key: string): Promise<Session | undefined> {
    while (this.busy.has(key)) await new Promise<void>((resolve) => this.busy.get(key)?.push(resolve));
    this.busy.set(key, []);
    const entry = this.idle.get(key);
    if (!entry) return undefined;
    this.idle.delete(key);
    clearTimeout(entry.timer);
    return entry.session.client.isOpen ? entry.session : undefined;
  }

  /** Gives `key` back; a healthy session (RSET already answered 250) is kept for the next owner. */
  release(key: string, session: Session | undefined): void {
    if (session?.client.isOpen && session.client.messages < this.options.maxMessagesPerSession) {
      const timer = setTimeout(() => {
        this.idle.delete(key);
        void session.client.quit();
      }, this.options.idleMs);
      timer.unref();
      this.idle.set(key, { session, timer });
    } else {
      void session?.client.quit();
    }
    const waiters = this.busy.get(key) ?? [];
    this.busy.delete(key);
    // Every waiter wakes; the first to run takes the key and the others queue again behind it.
    for (const w of waiters) w();
  }

  /** Closes every idle session (QUIT). */
  async close(): Promise<void> {
    const entries = [...this.idle.values()];
    this.idle.clear();
    for (const e of entries) clearTimeout(e.timer);
    await Promise.all(entries.map((e) => e.session.client.quit()));
  }
}
