import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/auth/password.js';
import { UserAuthenticator } from '../../../src/auth/user-authenticator.js';
import { UserDatabase } from '../../../src/auth/user-db.js';

const FAST = { memoryKiB: 64, passes: 1, parallelism: 1 };

async function setUp(maxFailures = 3) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mta-auth-')), 'users.db');
  const db = UserDatabase.open(file, { create: true });
  db.add('alice', await hashPassword('secret', FAST), ['alice@example.org']);
  let now = 1_000_000;
  const auth = new UserAuthenticator({ database: file, maxFailures, lockoutMs: 60_000, nowMs: () => now });
  return { db, auth, tick: (ms: number) => (now += ms) };
}

const attempt = (login: string, password: string, clientAddress = '192.0.2.1') => ({ login, password, clientAddress });

describe('user-authenticator', () => {
  it('user-authenticator accepts the right password with the addresses, any case of login', async () => {
    const { auth } = await setUp();
    expect(await auth.verify(attempt('ALICE', 'secret'))).toEqual({ kind: 'accepted', login: 'alice', addresses: ['alice@example.org'] });
  });

  it('user-authenticator rejects and says why: bad password, unknown user, disabled user', async () => {
    const { db, auth } = await setUp(10);
    expect(await auth.verify(attempt('alice', 'nope'))).toEqual({ kind: 'rejected', reason: 'bad-password', delayMs: 0 });
    expect(await auth.verify(attempt('mallory', 'secret'))).toEqual({ kind: 'rejected', reason: 'unknown-user', delayMs: 0 });
    db.setEnabled('alice', false);
    expect(await auth.verify(attempt('alice', 'secret'))).toMatchObject({ kind: 'rejected', reason: 'disabled' });
  });

  it('user-authenticator sees database changes at the next attempt', async () => {
    const { db, auth } = await setUp();
    db.add('bob', await hashPassword('pw1', FAST), []);
    expect((await auth.verify(attempt('bob', 'pw1'))).kind).toBe('accepted');
    db.setPassword('bob', await hashPassword('pw2', FAST));
    expect((await auth.verify(attempt('bob', 'pw1'))).kind).toBe('rejected');
    expect((await auth.verify(attempt('bob', 'pw2'))).kind).toBe('accepted');
  });

  it('user-authenticator locks an address out after maxFailures, even for the right password, until the lockout ends', async () => {
    const { auth, tick } = await setUp(3);
    for (let i = 0; i < 3; i++) expect((await auth.verify(attempt('alice', `wrong${i}`))).kind).toBe('rejected');
    expect(await auth.verify(attempt('alice', 'secret'))).toEqual({ kind: 'locked-out' });
    expect((await auth.verify(attempt('alice', 'secret', '192.0.2.99'))).kind).toBe('accepted');
    tick(60_001);
    expect((await auth.verify(attempt('alice', 'secret'))).kind).toBe('accepted');
  });

  it('user-authenticator reports a missing database as unavailable', async () => {
    const auth = new UserAuthenticator({ database: '/nonexistent/users.db', maxFailures: 3, lockoutMs: 1000 });
    expect(await auth.verify(attempt('alice', 'secret'))).toMatchObject({ kind: 'unavailable' });
  });
});
