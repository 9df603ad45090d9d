// The user database: one SQLite file (node:sqlite) in WAL mode with a busy timeout, so `mta
// user`, every SMTP worker and Dovecot's passdb can use it at once. Holds each user's login,
// Argon2id hash (PHC string), enabled flag and sender addresses, and the failed-AUTH counters
// that all workers share. The schema is versioned with PRAGMA user_version; the layout is in
// docs/operations.md ("Adding users"). Logins are stored lower-cased.
import { chmodSync, existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

/** The schema version this program writes and reads. */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  login TEXT PRIMARY KEY NOT NULL,
  password TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS addresses (
  login TEXT NOT NULL REFERENCES users (login) ON DELETE CASCADE,
  address TEXT NOT NULL,
  PRIMARY KEY (login, address)
) STRICT;
CREATE TABLE IF NOT EXISTS auth_failures (
  key TEXT PRIMARY KEY NOT NULL,
  failures INTEGER NOT NULL,
  last_failure_ms INTEGER NOT NULL,
  locked_until_ms INTEGER NOT NULL
) STRICT;
PRAGMA user_version = ${SCHEMA_VERSION};
`;

/** How long a writer waits for another one (the daemon, `mta user`, Dovecot) before failing. */
const BUSY_TIMEOUT_MS = 5000;

/** One user as stored. */
export interface UserRecord {
  readonly login: string;
  /** The PHC string, `$argon2id$v=19$...`. */
  readonly passwordHash: string;
  readonly isEnabled: boolean;
  /** Sender addresses, lower-cased: `local@domain`, or `@domain` for every address of a domain. */
  readonly addresses: readonly string[];
}

/** The failed-AUTH counter of one key (a client address or a login). */
export interface FailureRecord {
  readonly failures: number;
  readonly lastFailureMs: number;
  readonly lockedUntilMs: number;
}

/** A database that cannot be used as it is; the message says why. */
export class UserDatabaseError extends Error {
  readonly code = 'MTA_ERR_USER_DATABASE';
}

/** Normalises a login as stored and looked up: lower-cased, so logins are case-insensitive. */
export function normalizeLogin(login: string): string {
  return login.toLowerCase();
}

/** The users and AUTH failure counters in one SQLite file. */
export class UserDatabase {
  private constructor(private readonly db: DatabaseSync) {}

  /**
   * Opens the database; with `create`, makes a missing file (mode 0600) and its tables.
   * Without it, a missing file is an error (the daemon creates it at start-up).
   */
  static open(path: string, options: { create: boolean }): UserDatabase {
    const isNew = !existsSync(path);
    if (isNew && !options.create) throw new UserDatabaseError(`user database ${path} does not exist`);
    const db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
    try {
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      if (isNew) chmodSync(path, 0o600);
      const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
      if (version > SCHEMA_VERSION) throw new UserDatabaseError(`user database ${path} has schema version ${version}; this mta reads version ${SCHEMA_VERSION}`);
      if (version < SCHEMA_VERSION) {
        // WAL lets readers (workers, Dovecot) go on while `mta user` writes; it stays set in the file.
        db.exec('PRAGMA journal_mode = WAL');
        db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
      }
      return new UserDatabase(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Finds a user by login (any case). */
  find(login: string): UserRecord | undefined {
    const row = this.db.prepare('SELECT login, password, enabled FROM users WHERE login = ?').get(normalizeLogin(login)) as
      | { login: string; password: string; enabled: number }
      | undefined;
    return row ? this.record(row) : undefined;
  }

  /** Lists every user, by login. */
  list(): UserRecord[] {
    const rows = this.db.prepare('SELECT login, password, enabled FROM users ORDER BY login').all() as { login: string; password: string; enabled: number }[];
    return rows.map((row) => this.record(row));
  }

  private record(row: { login: string; password: string; enabled: number }): UserRecord {
    const addresses = this.db.prepare('SELECT address FROM addresses WHERE login = ? ORDER BY address').all(row.login) as { address: string }[];
    return { login: row.login, passwordHash: row.password, isEnabled: row.enabled === 1, addresses: addresses.map((a) => a.address) };
  }

  /** Adds a user with its addresses; false when the login exists. */
  add(login: string, passwordHash: string, addresses: readonly string[]): boolean {
    const now = new Date().toISOString();
    return this.transaction(() => {
      const inserted = this.db
        .prepare('INSERT INTO users (login, password, enabled, created_at, updated_at) VALUES (?, ?, 1, ?, ?) ON CONFLICT DO NOTHING')
        .run(normalizeLogin(login), passwordHash, now, now);
      if (Number(inserted.changes) === 0) return false;
      for (const address of addresses) this.insertAddress(login, address);
      return true;
    });
  }

  /** Replaces a user's password hash; false when there is no such user. */
  setPassword(login: string, passwordHash: string): boolean {
    const r = this.db.prepare('UPDATE users SET password = ?, updated_at = ? WHERE login = ?').run(passwordHash, new Date().toISOString(), normalizeLogin(login));
    return Number(r.changes) > 0;
  }

  /** Enables or disables a user; false when there is no such user. */
  setEnabled(login: string, isEnabled: boolean): boolean {
    const r = this.db.prepare('UPDATE users SET enabled = ?, updated_at = ? WHERE login = ?').run(isEnabled ? 1 : 0, new Date().toISOString(), normalizeLogin(login));
    return Number(r.changes) > 0;
  }

  /** Deletes a user and its addresses; false when there is no such user. */
  remove(login: string): boolean {
    return Number(this.db.prepare('DELETE FROM users WHERE login = ?').run(normalizeLogin(login)).changes) > 0;
  }

  /** Adds a sender address to a user: 'added', 'exists', or 'no-user'. */
  addAddress(login: string, address: string): 'added' | 'exists' | 'no-user' {
    return this.transaction(() => {
      if (!this.find(login)) return 'no-user';
      return this.insertAddress(login, address) ? 'added' : 'exists';
    });
  }

  /** Removes a sender address from a user; false when the user did not have it. */
  removeAddress(login: string, address: string): boolean {
    const r = this.db.prepare('DELETE FROM addresses WHERE login = ? AND address = ?').run(normalizeLogin(login), address.toLowerCase());
    return Number(r.changes) > 0;
  }

  private insertAddress(login: string, address: string): boolean {
    const r = this.db.prepare('INSERT INTO addresses (login, address) VALUES (?, ?) ON CONFLICT DO NOTHING').run(normalizeLogin(login), address.toLowerCase());
    return Number(r.changes) > 0;
  }

  /** Reads the failure counter of a key. */
  failure(key: string): FailureRecord | undefined {
    const row = this.db.prepare('SELECT failures, last_failure_ms, locked_until_ms FROM auth_failures WHERE key = ?').get(key) as
      | { failures: number; last_failure_ms: number; locked_until_ms: number }
      | undefined;
    return row && { failures: Number(row.failures), lastFailureMs: Number(row.last_failure_ms), lockedUntilMs: Number(row.locked_until_ms) };
  }

  /** Writes the failure counter of a key. */
  saveFailure(key: string, record: FailureRecord): void {
    this.db
      .prepare(
        `INSERT INTO auth_failures (key, failures, last_failure_ms, locked_until_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_ms = excluded.last_failure_ms, locked_until_ms = excluded.locked_until_ms`,
      )
      .run(key, record.failures, record.lastFailureMs, record.lockedUntilMs);
  }

  /** Forgets the failures of a key. */
  clearFailure(key: string): void {
    this.db.prepare('DELETE FROM auth_failures WHERE key = ?').run(key);
  }

  /** Forgets counters whose last failure and lockout both ended before `beforeMs`. */
  pruneFailures(beforeMs: number): void {
    this.db.prepare('DELETE FROM auth_failures WHERE last_failure_ms < ? AND locked_until_ms < ?').run(beforeMs, beforeMs);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }
}
