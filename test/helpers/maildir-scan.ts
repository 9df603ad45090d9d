// Reads what mta left under a maildir root, for end-to-end checks: every message file in each
// mailbox's new/ and cur/ with its size and `,S=` value, and whatever lies in tmp/ folders.
// Read-only; knows the layout `<root>/<domain>/<user>/` of docs/queue-format.md, nothing more.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** One message file in a mailbox. */
export interface MaildirFile {
  /** `<domain>/<user>` */
  readonly mailbox: string;
  readonly folder: 'new' | 'cur';
  readonly name: string;
  readonly path: string;
  readonly sizeBytes: number;
  /** The `,S=` value in the name, or undefined when the name has none. */
  readonly sizeInName: number | undefined;
  readonly links: number;
  readonly inode: number;
}

/** Lists the mailbox directories (`<domain>/<user>`) under a maildir root. */
export function listMailboxes(root: string): string[] {
  if (!existsSync(root)) return [];
  const boxes: string[] = [];
  for (const domain of readdirSync(root, { withFileTypes: true })) {
    if (!domain.isDirectory()) continue;
    for (const user of readdirSync(path.join(root, domain.name), { withFileTypes: true })) {
      // `.new-mailbox.<hex>` is a mailbox being built; it is not a mailbox yet.
      if (user.isDirectory() && !user.name.startsWith('.')) boxes.push(`${domain.name}/${user.name}`);
    }
  }
  return boxes.sort();
}

/** Lists every message file in new/ and cur/ of every mailbox (INBOX only). */
export function listMessages(root: string): MaildirFile[] {
  const files: MaildirFile[] = [];
  for (const mailbox of listMailboxes(root)) {
    for (const folder of ['new', 'cur'] as const) {
      const dir = path.join(root, mailbox, folder);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        const info = statSync(file);
        const match = /,S=(\d+)/.exec(name);
        files.push({
          mailbox,
          folder,
          name,
          path: file,
          sizeBytes: info.size,
          sizeInName: match ? Number(match[1]) : undefined,
          links: info.nlink,
          inode: info.ino,
        });
      }
    }
  }
  return files;
}

/** Lists the files left in every tmp/ under the root (mailboxes and their folders), as paths. */
export function listMaildirTmp(root: string): string[] {
  const found: string[] = [];
  for (const mailbox of listMailboxes(root)) {
    const base = path.join(root, mailbox);
    const folders = ['', ...readdirSync(base).filter((n) => n.startsWith('.'))];
    for (const folder of folders) {
      const tmp = path.join(base, folder, 'tmp');
      if (existsSync(tmp)) for (const name of readdirSync(tmp)) found.push(path.join(tmp, name));
    }
  }
  return found;
}

/** Lists the entries of one queue state folder (e.g. `tmp`, `incoming`); empty when missing. */
export function listQueueFolder(queueRoot: string, state: string): string[] {
  const dir = path.join(queueRoot, state);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
