// Durable file writes shared by the queue and Maildir (chasquid's safeio): fsync a file or a
// directory, write a whole buffer, write-fsync a new file, rename and fsync the folders involved.
// Errors propagate unchanged: callers decide whether an I/O failure is a reply or a log line.
import { open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Mode of private directories (the queue, mailboxes): only the service user reads mail. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of private files (queue records, messages in Maildir). */
export const PRIVATE_FILE_MODE = 0o600;

/** Flushes a file or directory to stable storage (a directory fsync makes renames durable). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of `buf` at the handle's position (a short write is continued); returns its length. */
export async function writeAll(handle: FileHandle, buf: Buffer): Promise<number> {
  let offset = 0;
  while (offset < buf.length) offset += (await handle.write(buf, offset)).bytesWritten;
  return buf.length;
}

/** Creates a new file (failing if it exists), writes it completely and fsyncs it. */
export async function writeFileSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames `from` to `to` and fsyncs the destination directory, and the source one if different. */
export async function renameSynced(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncPath(dirname(to));
  if (dirname(from) !== dirname(to)) await fsyncPath(dirname(from));
}
