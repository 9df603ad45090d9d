// The outbound session pool: one owner per address, reuse after release, and the limit on
// sessions open at once (the longest idle one closed to make room, or a wait when all are busy).
import { describe, expect, it } from 'vitest';
import { type Session, SessionPool } from '../../../src/relay/pool.js';
import { NO_FEATURES } from '../../../src/relay/transaction.js';

/** A session whose client only counts QUITs. */
function fakeSession(name: string, quits: string[]): Session {
  const client = { isOpen: true, messages: 1, quit: async () => void quits.push(name) };
  return { client, features: NO_FEATURES } as unknown as Session;
}

const options = { idleMs: 60_000, maxMessagesPerSession: 10 };

describe('SessionPool', () => {
  it('pool gives a released session to the next owner of its address, and makes a second owner wait', async () => {
    const pool = new SessionPool({ ...options, maxSessions: 5 });
    expect(await pool.acquire('a')).toBeUndefined();
    let second: Session | undefined | 'waiting' = 'waiting';
    const waiting = pool.acquire('a').then((s) => (second = s));
    await Promise.resolve();
    expect(second).toBe('waiting');
    const session = fakeSession('a', []);
    pool.release('a', session);
    await waiting;
    expect(second).toBe(session);
    pool.release('a', undefined);
    await pool.close();
  });

  it('pool closes the longest idle session of another address when at its limit', async () => {
    const quits: string[] = [];
    const pool = new SessionPool({ ...options, maxSessions: 2 });
    await pool.acquire('a');
    await pool.acquire('b');
    pool.release('a', fakeSession('a', quits));
    pool.release('b', fakeSession('b', quits));
    expect(await pool.acquire('c')).toBeUndefined();
    expect(quits).toEqual(['a']);
    pool.release('c', undefined);
    await pool.close();
    expect(quits).toEqual(['a', 'b']);
  });

  it('pool makes a new address wait while every session is busy, until one is given back', async () => {
    const pool = new SessionPool({ ...options, maxSessions: 1 });
    await pool.acquire('a');
    let got = false;
    const waiting = pool.acquire('b').then(() => (got = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toBe(false);
    pool.release('a', undefined);
    await waiting;
    expect(got).toBe(true);
    pool.release('b', undefined);
  });
});
