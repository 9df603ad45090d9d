import { describe, expect, it } from 'vitest';
import { addressKey, FailureTracker, type FailureStore, loginKey } from '../../../src/auth/failures.js';
import type { FailureRecord } from '../../../src/auth/user-db.js';

class MemoryStore implements FailureStore {
  readonly rows = new Map<string, FailureRecord>();
  failure(key: string) {
    return this.rows.get(key);
  }
  saveFailure(key: string, record: FailureRecord) {
    this.rows.set(key, record);
  }
  clearFailure(key: string) {
    this.rows.delete(key);
  }
  pruneFailures(beforeMs: number) {
    for (const [key, r] of this.rows) if (r.lastFailureMs < beforeMs && r.lockedUntilMs < beforeMs) this.rows.delete(key);
  }
}

const POLICY = { maxFailures: 5, lockoutMs: 60_000 };

describe('failures', () => {
  it('addressKey keeps IPv4 and groups IPv6 by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('ip:192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('ip:192.0.2.7');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe(addressKey('2001:db8:1:2::99'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(loginKey('Alice')).toBe('login:alice');
  });

  it('failures slow replies from the third, then lock the address out at maxFailures', () => {
    const tracker = new FailureTracker(new MemoryStore(), POLICY);
    const delays = [1, 2, 3, 4, 5].map((i) => tracker.recordFailure('192.0.2.1', 'alice', 1000 * i).delayMs);
    expect(delays).toEqual([0, 0, 1000, 2000, 3000]);
    expect(tracker.isLockedOut('192.0.2.1', 6000)).toBe(true);
    expect(tracker.isLockedOut('192.0.2.2', 6000)).toBe(false);
    expect(tracker.isLockedOut('192.0.2.1', 5000 + 60_000)).toBe(false);
  });

  it('failures of one login from many addresses slow down but lock no address out', () => {
    const tracker = new FailureTracker(new MemoryStore(), POLICY);
    const delays = Array.from({ length: 10 }, (_, i) => tracker.recordFailure(`192.0.2.${i}`, 'alice', 1000 + i).delayMs);
    expect(delays.slice(0, 3)).toEqual([0, 0, 1000]);
    expect(delays.at(-1)).toBe(5000);
    expect(tracker.isLockedOut('192.0.2.9', 2000)).toBe(false);
  });

  it('failures older than the lockout are forgotten; a success clears the login only', () => {
    const store = new MemoryStore();
    const tracker = new FailureTracker(store, POLICY);
    for (let i = 0; i < 4; i++) tracker.recordFailure('192.0.2.1', 'alice', i);
    expect(tracker.recordFailure('192.0.2.1', 'alice', 4 + 60_001).delayMs).toBe(0);
    expect(tracker.isLockedOut('192.0.2.1', 4 + 60_002)).toBe(false);
    tracker.recordSuccess('Alice');
    expect(store.failure(loginKey('alice'))).toBeUndefined();
    expect(store.failure(addressKey('192.0.2.1'))?.failures).toBe(1);
  });
});
