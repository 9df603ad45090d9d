import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { UserDatabase, UserDatabaseError } from '../../../src/auth/user-db.js';

function fresh(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'mta-userdb-')), 'users.db');
}

describe('user-db', () => {
  it('user-db creates a 0600 file in WAL mode with schema version 1', () => {
    const file = fresh();
    UserDatabase.open(file, { create: true }).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const raw = new DatabaseSync(file);
    expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: 1 });
    raw.close();
  });

  it('user-db refuses a missing file unless asked to create it, and a newer schema', () => {
    const file = fresh();
    expect(() => UserDatabase.open(file, { create: false })).toThrow(UserDatabaseError);
    const raw = new DatabaseSync(file);
    raw.exec('PRAGMA user_version = 7');
    raw.close();
    expect(() => UserDatabase.open(file, { create: true })).toThrow(/schema version 7/);
  });

  it('user-db adds, finds (any case), lists and deletes users with their addresses', () => {
    const db = UserDatabase.open(fresh(), { create: true });
    expect(db.add('Alice@Example.org', '$argon2id$x', ['Alice@Example.org', '@example.net'])).toBe(true);
    expect(db.add('alice@example.org', '$argon2id$y', [])).toBe(false);
    expect(db.find('ALICE@example.ORG')).toEqual({ login: 'alice@example.org', passwordHash: '$argon2id$x', isEnabled: true, addresses: ['@example.net', 'alice@example.org'] });
    db.add('bob', '$argon2id$z', []);
    expect(db.list().map((u) => u.login)).toEqual(['alice@example.org', 'bob']);
    expect(db.remove('alice@example.org')).toBe(true);
    expect(db.remove('alice@example.org')).toBe(false);
    expect(db.find('alice@example.org')).toBeUndefined();
    db.close();
  });

  it('user-db changes passwords, the enabled flag and addresses', () => {
    const db = UserDatabase.open(fresh(), { create: true });
    db.add('carol', 'h1', []);
    expect(db.setPassword('carol', 'h2')).toBe(true);
    expect(db.setEnabled('carol', false)).toBe(true);
    expect(db.addAddress('carol', 'carol@example.org')).toBe('added');
    expect(db.addAddress('carol', 'CAROL@example.org')).toBe('exists');
    expect(db.addAddress('dave', 'd@example.org')).toBe('no-user');
    expect(db.find('carol')).toMatchObject({ passwordHash: 'h2', isEnabled: false, addresses: ['carol@example.org'] });
    expect(db.removeAddress('carol', 'carol@example.org')).toBe(true);
    expect(db.removeAddress('carol', 'carol@example.org')).toBe(false);
    expect(db.setPassword('dave', 'h')).toBe(false);
    db.close();
  });

  it('user-db keeps failure counters and prunes old ones', () => {
    const db = UserDatabase.open(fresh(), { create: true });
    db.saveFailure('ip:192.0.2.1', { failures: 2, lastFailureMs: 100, lockedUntilMs: 0 });
    db.saveFailure('ip:192.0.2.1', { failures: 3, lastFailureMs: 200, lockedUntilMs: 0 });
    db.saveFailure('ip:192.0.2.2', { failures: 0, lastFailureMs: 100, lockedUntilMs: 5000 });
    expect(db.failure('ip:192.0.2.1')).toEqual({ failures: 3, lastFailureMs: 200, lockedUntilMs: 0 });
    db.pruneFailures(1000);
    expect(db.failure('ip:192.0.2.1')).toBeUndefined();
    expect(db.failure('ip:192.0.2.2')).toBeDefined();
    db.clearFailure('ip:192.0.2.2');
    expect(db.failure('ip:192.0.2.2')).toBeUndefined();
    db.close();
  });
});
