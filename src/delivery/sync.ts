// fsync for delivery: a file's data, or a directory so the renames in it survive a crash.
// (The queue has its own copy: delivery/ and queue/ must not import each other.)
import { open } from 'node:fs/promises';

/** Flushes a file or directory to stable storage. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Tells whether an error means "no space" (disk full or quota exceeded). */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Returns the errno code of an error, for log lines. */
export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}
