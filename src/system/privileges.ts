// Dropping root: resolves the service user and group, hands directories to them, and drops
// supplementary groups, gid and uid in that order (OpenSMTPD's order), then checks that root
// cannot be regained. Reads /etc/passwd and /etc/group itself: Node has no getpwnam.
import { chownSync, readFileSync } from 'node:fs';

/** A resolved service identity. */
export interface Identity {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly group: string;
}

/** An operator mistake about privileges; the message is the one line to print. */
export class PrivilegeError extends Error {
  readonly code = 'MTA_ERR_PRIVILEGES';
}

/** Finds the entry of /etc/passwd or /etc/group whose field `index` (0 name, 2 id) equals `value`. */
function lookup(file: string, value: string, index = 0): string[] | undefined {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields.length > 2 && fields[index] === value) return fields;
  }
  return undefined;
}

/** Resolves user and group names; the group defaults to the user's primary group. */
export function resolveIdentity(user: string, group: string | null): Identity {
  const pw = lookup('/etc/passwd', user);
  if (!pw) throw new PrivilegeError(`user "${user}" does not exist`);
  const uid = Number(pw[2]);
  let gid = Number(pw[3]);
  let groupName = lookup('/etc/group', String(gid), 2)?.[0] ?? String(gid);
  if (group !== null) {
    const gr = lookup('/etc/group', group);
    if (!gr) throw new PrivilegeError(`group "${group}" does not exist`);
    gid = Number(gr[2]);
    groupName = group;
  }
  if (uid === 0) throw new PrivilegeError(`user "${user}" is root; set "user" to an unprivileged account`);
  return { user, uid, gid, group: groupName };
}

/** Returns the login name of a uid from /etc/passwd, undefined if it has none. */
export function userNameOf(uid: number): string | undefined {
  return lookup('/etc/passwd', String(uid), 2)?.[0];
}

/** Gives a path to the service identity (directories it must write after the drop). */
export function handOver(path: string, id: Identity): void {
  chownSync(path, id.uid, id.gid);
}

/** Drops to the identity for good; throws if any step fails or root could be regained. */
export function dropPrivileges(id: Identity): void {
  process.setgroups?.([id.gid]);
  process.setgid?.(id.gid);
  process.setuid?.(id.uid);
  if (process.getuid?.() !== id.uid || process.geteuid?.() !== id.uid || process.getegid?.() !== id.gid) {
    throw new PrivilegeError('cannot drop privileges: uid or gid did not change');
  }
  let regained = false;
  try {
    process.setuid?.(0);
    regained = true;
  } catch {
    // expected: an unprivileged process cannot become root again
  }
  if (regained) throw new PrivilegeError('cannot drop privileges: root could be regained');
}

/** Tells whether this process runs as root. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
