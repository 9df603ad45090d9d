// `mta user` on a database in a temp dir, with the password given by the test's io.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../src/auth/password.js';
import { UserDatabase } from '../../../src/auth/user-db.js';
import { checkAddress, runUserCommand, type UserCommandIo } from '../../../src/cli/user-command.js';

function setUp(passwords: string[] = []) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mta-usercmd-')), 'users.db');
  const out: string[] = [];
  const err: string[] = [];
  const asked: boolean[] = [];
  const io: UserCommandIo = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    readPassword: async (fromStdin) => {
      asked.push(fromStdin);
      return passwords.shift() ?? '';
    },
  };
  const run = (...args: string[]) => runUserCommand(args, file, io);
  const read = <T>(f: (db: UserDatabase) => T): T => {
    const db = UserDatabase.open(file, { create: false });
    try {
      return f(db);
    } finally {
      db.close();
    }
  };
  return { run, read, out, err, asked };
}

describe('user command', () => {
  it('mta user add stores an Argon2id hash and the addresses; a login that is an address sends as itself', async () => {
    const t = setUp(['s3cret', 'pw']);
    expect(await t.run('add', 'Alice@Example.org', '--password-stdin')).toBe(0);
    expect(await t.run('add', 'bob', '--address', 'bob@example.org', '--address', '@example.net')).toBe(0);
    expect(t.asked).toEqual([true, false]);
    const alice = t.read((db) => db.find('alice@example.org'));
    expect(alice?.addresses).toEqual(['alice@example.org']);
    expect(await verifyPassword(alice?.passwordHash ?? '', 's3cret')).toBe(true);
    expect(t.read((db) => db.find('bob')?.addresses)).toEqual(['@example.net', 'bob@example.org']);
    expect(t.out.join('')).toContain('user alice@example.org added with alice@example.org');
  });

  it('mta user list, passwd, disable, enable, address add|del and del', async () => {
    const t = setUp(['one', 'two']);
    await t.run('add', 'carol');
    expect(await t.run('passwd', 'carol')).toBe(0);
    expect(await verifyPassword(t.read((db) => db.find('carol')?.passwordHash ?? ''), 'two')).toBe(true);
    expect(await t.run('disable', 'carol')).toBe(0);
    expect(await t.run('address', 'add', 'carol', 'carol@example.org', 'c@example.org')).toBe(0);
    expect(await t.run('address', 'del', 'carol', 'c@example.org')).toBe(0);
    t.out.length = 0;
    expect(await t.run('list')).toBe(0);
    expect(t.out.join('')).toBe('carol  disabled  carol@example.org\n-- 1 user\n');
    await t.run('enable', 'carol');
    expect(t.read((db) => db.find('carol')?.isEnabled)).toBe(true);
    expect(await t.run('del', 'carol')).toBe(0);
    t.out.length = 0;
    await t.run('list');
    expect(t.out.join('')).toBe('no users\n');
  });

  it('mta user refuses what it cannot do with exit 1, and usage mistakes with 64', async () => {
    const t = setUp(['pw', '', 'pw']);
    await t.run('add', 'dave');
    expect(await t.run('add', 'dave')).toBe(1);
    expect(await t.run('add', 'erin')).toBe(1); // empty password
    expect(await t.run('add', 'bad login')).toBe(1);
    expect(await t.run('add', 'frank', '--address', 'not-an-address')).toBe(1);
    expect(await t.run('passwd', 'nobody-here')).toBe(1);
    expect(await t.run('address', 'del', 'dave', 'x@example.org')).toBe(1);
    expect(await t.run('frob')).toBe(64);
    expect(await t.run('list', 'extra')).toBe(64);
    expect(await t.run('del', 'dave', '--address', 'x@y.z')).toBe(64);
    expect(await t.run('add', 'dave', '--bogus')).toBe(64);
    expect(t.err.join('')).toContain('mta: user: user "dave" exists');
    expect(t.err.join('')).toContain('mta: user: the password is empty');
  });

  it('checkAddress takes addresses and @domain, lower-cased', () => {
    expect(checkAddress('Alice@Example.ORG')).toBe('alice@example.org');
    expect(checkAddress('@example.net')).toBe('@example.net');
    for (const bad of ['alice', '@', 'a@', '<a@b.c>', 'a@[192.0.2.1]', '']) expect(() => checkAddress(bad), bad).toThrow();
  });
});
