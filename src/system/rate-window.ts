// Counts events per key (a client address) over a sliding window, for rate limits such as Postfix's
// anvil keeps: the count of the current window plus that of the previous one, weighted by the part
// of it still inside the last `windowMs`. Two numbers per key, however fast a client hammers, and
// keys idle for two windows are swept. Every event counts, refused ones too, so a client that keeps
// hammering stays refused until it slows down.

export interface RateWindowOptions {
  /** @default 60000 (rates are per minute) */
  readonly windowMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Counts {
  /** Start of the current window, a whole number of windows after the key's first event. */
  start: number;
  current: number;
  previous: number;
}

const MINUTE_MS = 60_000;

/** Event counts per key over a sliding window. */
export class RateWindow {
  private readonly counts = new Map<string, Counts>();
  private readonly windowMs: number;
  private readonly now: () => number;
  private lastSweepMs: number;

  constructor(options: RateWindowOptions = {}) {
    this.windowMs = options.windowMs ?? MINUTE_MS;
    this.now = options.now ?? Date.now;
    this.lastSweepMs = this.now();
  }

  /** The number of keys tracked. */
  get size(): number {
    return this.counts.size;
  }

  /** Counts one event for `key`; tells whether the rate, this event included, is within `limit`. */
  hit(key: string, limit: number): boolean {
    const now = this.now();
    this.sweep(now);
    const counts = this.advance(key, now);
    counts.current += 1;
    const overlap = 1 - (now - counts.start) / this.windowMs;
    return counts.current + counts.previous * overlap <= limit;
  }

  /** The counts of `key` with its windows moved up to `now`. */
  private advance(key: string, now: number): Counts {
    const counts = this.counts.get(key);
    if (counts === undefined) {
      const fresh = { start: now, current: 0, previous: 0 };
      this.counts.set(key, fresh);
      return fresh;
    }
    const windows = Math.floor((now - counts.start) / this.windowMs);
    if (windows >= 1) {
      counts.previous = windows === 1 ? counts.current : 0;
      counts.current = 0;
      counts.start += windows * this.windowMs;
    }
    return counts;
  }

  /** Forgets keys with no event for two windows, at most once a window. */
  private sweep(now: number): void {
    if (now - this.lastSweepMs < this.windowMs) return;
    this.lastSweepMs = now;
    for (const [key, counts] of this.counts) if (now - counts.start >= 2 * this.windowMs) this.counts.delete(key);
  }
}
