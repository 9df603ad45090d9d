// Places one message into several mailboxes: the Maildir form is written once into the first
// mailbox's tmp/ and hard-linked into the others' tmp/ (copied across file systems), then each
// link is renamed into new/ and new/ fsync'd. A mailbox that fails keeps no file in tmp/ or new/.
import { constants, copyFile, link, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { deliveryHeaders, writeMaildirCopy } from './maildir-copy.js';
import { withSize } from './maildir-name.js';
import type { MaildirNamer } from './maildir-name.js';
import { syncDirectory } from '../fsio/directory-sync.js';
import { fsyncPath } from '../fsio/durable.js';
import { errnoCode } from '../fsio/errno.js';

/** Where one mailbox's copy ended up: its path in new/, or the error that stopped it. */
export type Placement =
  | { readonly dir: string; readonly ok: true; readonly path: string }
  | { readonly dir: string; readonly ok: false; readonly error: string };

/** A copy written and fsync'd in a mailbox's tmp/, ready to be renamed into new/. */
export interface Staged {
  readonly dir: string;
  readonly base: string;
  readonly tmpPath: string;
}

/**
 * Delivers the message to every mailbox directory given (each must exist). `deliveredTo` is
 * set only when the file belongs to a single recipient, since every link shares its headers.
 * `beforePublish` hears the final new/ path of each mailbox's copy once every copy is written and
 * fsync'd but none is visible yet: a caller that records them first can tell after a crash
 * whether a delivery happened (if it throws, nothing is published).
 */
export async function placeCopies(
  message: { readonly dataPath: string; readonly reversePath: string },
  dirs: readonly string[],
  deliveredTo: string | undefined,
  namer: MaildirNamer,
  beforePublish?: (files: ReadonlyMap<string, string>) => Promise<void>,
): Promise<Placement[]> {
  const headers = deliveryHeaders(message.reversePath, deliveredTo);
  const placements: Placement[] = [];
  const staged: Staged[] = [];
  let original: { readonly path: string; readonly size: number } | undefined;
  for (const dir of dirs) {
    const base = namer.next();
    const tmpPath = join(dir, 'tmp', base);
    try {
      if (original === undefined) {
        original = { path: tmpPath, size: await writeMaildirCopy(message.dataPath, tmpPath, headers) };
      } else {
        await linkOrCopy(original.path, tmpPath);
      }
      staged.push({ dir, base, tmpPath });
    } catch (err) {
      placements.push({ dir, ok: false, error: errnoCode(err) });
    }
  }
  const size = original?.size ?? 0;
  if (beforePublish && staged.length > 0) {
    try {
      await beforePublish(new Map(staged.map((s) => [s.dir, join(s.dir, 'new', withSize(s.base, size))])));
    } catch (err) {
      for (const s of staged) await unlink(s.tmpPath).catch(() => undefined);
      return [...placements, ...staged.map((s): Placement => ({ dir: s.dir, ok: false, error: errnoCode(err) }))];
    }
  }
  for (const s of staged) placements.push(await publish(s, size));
  return placements;
}

/**
 * Renames a staged file into new/ with its exact size, and makes the rename durable (one fsync
 * of new/ shared with the deliveries into the same mailbox meanwhile).
 */
export async function publish(s: Staged, size: number): Promise<Placement> {
  const newDir = join(s.dir, 'new');
  const newPath = join(newDir, withSize(s.base, size));
  try {
    await rename(s.tmpPath, newPath);
  } catch (err) {
    await unlink(s.tmpPath).catch(() => undefined);
    return { dir: s.dir, ok: false, error: errnoCode(err) };
  }
  try {
    await syncDirectory(newDir);
    return { dir: s.dir, ok: true, path: newPath };
  } catch (err) {
    // Not known to be durable, so not delivered: take it back rather than risk a silent loss.
    await unlink(newPath).catch(() => undefined);
    return { dir: s.dir, ok: false, error: errnoCode(err) };
  }
}

/** Hard-links a file; copies and fsyncs it instead when the mailboxes are on different file systems. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    try {
      await copyFile(from, to, constants.COPYFILE_EXCL);
      await fsyncPath(to);
    } catch (copyErr) {
      await unlink(to).catch(() => undefined);
      throw copyErr;
    }
  }
}
