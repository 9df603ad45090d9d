// Where the user database lives and who owns it. The daemon and `mta user` both prepare its
// directory as root (created 0700 and handed to the service user when missing; an existing one
// is never changed, it may hold other things), then open the file as the service user, so the
// database and its WAL files always belong to the daemon, whoever ran the command.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { UserDatabase } from '../auth/user-db.js';
import { handOver, type Identity } from '../system/privileges.js';

/** Creates the database's directory if it is missing, owned by `identity` when given. */
export function prepareUserDatabaseDirectory(file: string, identity: Identity | undefined): void {
  const dir = path.dirname(file);
  if (existsSync(dir)) return;
  mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  mkdirSync(dir, { mode: 0o700 });
  if (identity) handOver(dir, identity);
}

/** Opens the database as the current user, creating the file and its tables if missing. */
export function openUserDatabase(file: string): UserDatabase {
  return UserDatabase.open(file, { create: true });
}
