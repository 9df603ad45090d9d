// A small cache of DNS answers: each entry lives for its TTL, and the cache holds at most a fixed
// number of entries, dropping the least recently used first (a Map keeps insertion order, and a
// hit re-inserts). Knows nothing of DNS itself.

/** Values by key, each until its own expiry time. */
export class DnsCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAtMs: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly nowMs: () => number,
  ) {}

  /** Returns the live value of a key, or undefined (an expired entry is dropped). */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAtMs <= this.nowMs()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps a value for `ttlSec` seconds; a TTL of 0 keeps nothing. */
  set(key: string, value: V, ttlSec: number): void {
    if (ttlSec <= 0 || this.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAtMs: this.nowMs() + ttlSec * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
