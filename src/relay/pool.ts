// Outbound sessions kept open between messages, at most one per server address and port: a
// session has one owner at a time, returns to the pool only after RSET was answered 250 (STYLE
// §8), and is closed after a short idle time or a number of messages. Callers for an address
// whose session is busy wait for it rather than opening another. At most `maxSessions` are open
// (or opening) at once: a new address first closes the longest idle session of another, and
// waits when every session is busy.
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
  /** Sessions open at once, busy and idle. */
  readonly maxSessions: number;
}

/** One owner per key ("address port"), and the idle session of each key, if any. */
export class SessionPool {
  private readonly idle = new Map<string, { session: Session; timer: NodeJS.Timeout }>();
  /** Keys in use, each with the callers waiting for it. */
  private readonly busy = new Map<string, (() => void)[]>();
  /** Callers waiting for a session to close somewhere. */
  private readonly roomWaiters: (() => void)[] = [];

  constructor(private readonly options: PoolOptions) {}

  /** Waits until nobody else uses `key` and a session may be open; returns its idle session, or undefined to open one. */
  async acquire(key: string): Promise<Session | undefined> {
    for (;;) {
      const owner = this.busy.get(key);
      if (owner) {
        await new Promise<void>((resolve) => owner.push(resolve));
        continue;
      }
      const entry = this.idle.get(key);
      if (entry) {
        this.idle.delete(key);
        clearTimeout(entry.timer);
        this.busy.set(key, []);
        return entry.session.client.isOpen ? entry.session : undefined;
      }
      if (this.busy.size + this.idle.size < this.options.maxSessions) {
        this.busy.set(key, []);
        return undefined;
      }
      const [oldest] = this.idle.keys();
      if (oldest !== undefined) this.closeIdle(oldest);
      else await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** Gives `key` back; a healthy session (RSET already answered 250) is kept for the next owner. */
  release(key: string, session: Session | undefined): void {
    if (session?.client.isOpen && session.client.messages < this.options.maxMessagesPerSession) {
      const timer = setTimeout(() => this.closeIdle(key), this.options.idleMs);
      timer.unref();
      this.idle.set(key, { session, timer });
    } else {
      void session?.client.quit();
    }
    const waiters = this.busy.get(key) ?? [];
    this.busy.delete(key);
    // Every waiter wakes; the first to run takes the key and the others queue again behind it.
    for (const w of waiters) w();
    this.makeRoom();
  }

  private closeIdle(key: string): void {
    const entry = this.idle.get(key);
    if (!entry) return;
    this.idle.delete(key);
    clearTimeout(entry.timer);
    void entry.session.client.quit();
    this.makeRoom();
  }

  /** Wakes the callers waiting for room; each checks again. */
  private makeRoom(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }

  /** Closes every idle session (QUIT). */
  async close(): Promise<void> {
    const entries = [...this.idle.values()];
    this.idle.clear();
    for (const e of entries) clearTimeout(e.timer);
    await Promise.all(entries.map((e) => e.session.client.quit()));
  }
}
