// Durable file writes shared by the queue and Maildir (chasquid's safeio): fsync a file or a
// directory, write a whole buffer, write-fsync a new file, rename and fsync the folders involved.
// Errors propagate unchanged: callers decide whether an I/O failure is a reply or a log line.
//
// Writes, closes and opens of existing files are synchronous system calls: on a local file
// system each takes microseconds, far less than a round trip through libuv's thread pool (a
// dozen futex calls and two context switches), which profiles showed as the largest cost per
// message. What can wait for the disk runs on the thread pool: fsync, and the operations that
// change a directory (creating a file, renaming, removing), which wait behind a journal commit
// that another delivery's fsync started (seen as milliseconds of blocked event loop per message
// when they were synchronous). Keep the queue and the mailboxes on local disks: a hung network
// file system would stall a worker's event loop.
import { closeSync, fsync, open, openSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** Mode of private directories (the queue, mailboxes): only the service user reads mail. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of private files (queue records, messages in Maildir). */
export const PRIVATE_FILE_MODE = 0o600;

/** Flushes an open file to stable storage, on the thread pool. */
export const fsyncFd: (fd: number) => Promise<void> = promisify(fsync);

const openFd = promisify(open);

/** Creates a new private file (failing if it exists), on the thread pool; returns its descriptor. */
export function createFile(path: string): Promise<number> {
  return openFd(path, 'wx', PRIVATE_FILE_MODE);
}

/** Flushes a file or directory to stable storage (a directory fsync makes renames durable). */
export async function fsyncPath(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `buf` at the descriptor's position (a short write is continued); returns its length. */
export function writeFully(fd: number, buf: Buffer): number {
  let offset = 0;
  while (offset < buf.length) offset += writeSync(fd, buf, offset);
  return buf.length;
}

/** Writes all of `buf` at the handle's position (a short write is continued); returns its length. */
export async function writeAll(handle: FileHandle, buf: Buffer): Promise<number> {
  let offset = 0;
  while (offset < buf.length) offset += (await handle.write(buf, offset)).bytesWritten;
  return buf.length;
}

/** Creates a new file (failing if it exists), writes it completely and fsyncs it. */
export async function writeFileSynced(path: string, text: string): Promise<void> {
  const fd = await createFile(path);
  try {
    writeFully(fd, Buffer.from(text));
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Renames a directory built under a temporary name into place, unless a directory is already
 * there (made meanwhile by someone else: theirs stands). Resolves true when this call placed it.
 */
export async function placeDirectory(staging: string, target: string): Promise<boolean> {
  return rename(staging, target).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST' && err.code !== 'ENOTEMPTY') throw err;
      return false;
    },
  );
}

/** Renames `from` to `to` and fsyncs the destination directory, and the source one if different. */
export async function renameSynced(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncPath(dirname(to));
  if (dirname(from) !== dirname(to)) await fsyncPath(dirname(from));
}
