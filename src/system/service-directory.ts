// Creates a directory the service writes to, and hands it to the service user, but only when it is
// missing: a directory that already exists belongs to whoever made it (Debian's /var/mail is
// root:mail 2775, Policy 11.6), so its owner and mode are never changed. Whether the service user
// can write an existing one is checked after the privilege drop, not fixed here.
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The owner a created directory is handed to. */
export interface DirectoryOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Creates `dir` with `mode` (exactly, whatever the umask) and `owner` if it does not exist; its
 * missing parents are created 0755 and stay the caller's. Returns whether `dir` was created.
 */
export function prepareServiceDirectory(dir: string, mode: number, owner?: DirectoryOwner): boolean {
  const existing = statSync(dir, { throwIfNoEntry: false });
  if (existing?.isDirectory()) return false;
  if (existing) throw Object.assign(new Error(`not a directory: ${dir}`), { code: 'ENOTDIR' });
  createParents(path.dirname(dir));
  mkdirSync(dir, { mode });
  chmodSync(dir, mode);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return true;
}

/** Creates the missing ancestors 0755 whatever the umask, so the service user can pass through them. */
function createParents(dir: string): void {
  if (statSync(dir, { throwIfNoEntry: false })) return;
  createParents(path.dirname(dir));
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
}
