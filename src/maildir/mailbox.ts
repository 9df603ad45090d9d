// Maps a local address to a mailbox directory and creates mailboxes. The local part is
// lower-cased (as Postfix's local(8) does, so User@ and user@ share one mailbox), a recipient
// delimiter suffix is dropped, and anything unsafe as a path component is refused. Which
// addresses are local is the queue router's decision, not this file's.
import { statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { replies } from '../smtp/reply.js';
import type { Reply } from '../smtp/reply.js';
import { fsyncPath, placeDirectory, PRIVATE_DIR_MODE } from '../fsio/durable.js';

/** The folders created with every mailbox, each a Maildir of its own (Maildir++ naming). */
export const MAILBOX_FOLDERS: readonly string[] = ['.Drafts', '.Sent', '.Trash'];
const MAILDIR_SUBDIRS = ['tmp', 'new', 'cur'] as const;
/** RFC 5321 4.5.3.1.1: a local part is at most 64 octets. */
const MAX_LOCAL_PART = 64;

/** The mailbox of a local address, or why it has none. */
export type MailboxTarget =
  | { readonly kind: 'mailbox'; readonly domain: string; readonly user: string; readonly dir: string }
  | { readonly kind: 'invalid'; readonly reply: Reply };

/** How addresses map to mailboxes. */
export interface MailboxLayout {
  readonly root: string;
  /** `+` maps `user+tag@` to `user`; '' turns it off. */
  readonly recipientDelimiter: string;
}

/** Resolves a local address (`user@domain`, no angle brackets) to its mailbox directory. */
export function resolveMailbox(address: string, layout: MailboxLayout): MailboxTarget {
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1).toLowerCase();
  const user = mailboxUser(address.slice(0, Math.max(at, 0)), layout.recipientDelimiter);
  if (at < 0 || !isSafeComponent(user) || !isSafeComponent(domain) || user.length > MAX_LOCAL_PART) {
    return { kind: 'invalid', reply: replies.undeliverableLocalPart(address) };
  }
  return { kind: 'mailbox', domain, user, dir: join(layout.root, domain, user) };
}

/** Returns the mailbox name for a local part: delimiter suffix dropped, lower-cased. */
export function mailboxUser(localPart: string, delimiter: string): string {
  const cut = delimiter === '' ? -1 : localPart.indexOf(delimiter);
  // A local part that starts with the delimiter is kept whole rather than mapped to ''.
  const base = cut > 0 ? localPart.slice(0, cut) : localPart;
  return base.toLowerCase();
}

/** Tells whether a name is safe as one path component under the maildir root. */
export function isSafeComponent(name: string): boolean {
  if (name === '' || name.startsWith('.') || name.includes('..')) return false;
  // Quotes and backslashes mean a quoted local part: legal SMTP, but not a mailbox name we make.
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f || ch === '/' || ch === '\\' || ch === '"') return false;
  }
  return true;
}

/** Tells whether a mailbox directory exists. */
export async function mailboxExists(dir: string): Promise<boolean> {
  // Synchronous, as the other small operations on the delivery path (fsio/durable.ts says why).
  const info = statSync(dir, { throwIfNoEntry: false });
  return Promise.resolve(info?.isDirectory() ?? false);
}

/**
 * Creates a mailbox with tmp/ new/ cur/ and its folders, built under a temp name and renamed
 * into place, so a crash never leaves a half-made mailbox. The maildir root must exist. Resolves
 * true when this call made it, false when another one made it first.
 */
export async function createMailbox(root: string, domain: string, user: string): Promise<boolean> {
  const domainDir = join(root, domain);
  await mkdir(domainDir, { mode: PRIVATE_DIR_MODE }).then(
    () => fsyncPath(root),
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    },
  );
  // Names starting with '.' are never mailboxes (isSafeComponent), so the staging name is free.
  const staging = join(domainDir, `.new-mailbox.${randomBytes(6).toString('hex')}`);
  try {
    await buildMaildir(staging);
    for (const folder of MAILBOX_FOLDERS) await buildMaildir(join(staging, folder));
    await fsyncPath(staging);
    // Another delivery may have created it first: theirs stands.
    const created = await placeDirectory(staging, join(domainDir, user));
    await fsyncPath(domainDir);
    return created;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function buildMaildir(dir: string): Promise<void> {
  await mkdir(dir, { mode: PRIVATE_DIR_MODE });
  for (const sub of MAILDIR_SUBDIRS) await mkdir(join(dir, sub), { mode: PRIVATE_DIR_MODE });
  await fsyncPath(dir);
}
