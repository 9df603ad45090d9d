// Small file-system helpers for durable writes in the queue: fsync a file or directory, write
// a file and fsync it, rename and fsync the directories involved. Errors propagate unchanged:
// callers decide whether an I/O failure is a transient reply or a log line.
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Mode of every directory the queue creates: the spool is private to the service user. */
export const DIR_MODE = 0o700;
/** Mode of every file the queue creates. */
export const FILE_MODE = 0o600;

/** Flushes a file or directory to stable storage (a directory fsync makes renames durable). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates a new file (failing if it exists), writes it completely and fsyncs it. */
export async function writeFileSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', FILE_MODE);
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
