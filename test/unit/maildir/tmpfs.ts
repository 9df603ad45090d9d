// A small tmpfs for tests of full and read-only file systems. Needs root (or CAP_SYS_ADMIN);
// mountTmpfs reports false instead of throwing so the tests can skip with a clear message.
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Mounts a tmpfs of `sizeKb` at `dir`; false when mounting is not permitted here. */
export async function mountTmpfs(dir: string, sizeKb: number): Promise<boolean> {
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0755`, 'tmpfs', dir]);
    return true;
  } catch (err) {
    process.stderr.write(`skipping tmpfs tests: cannot mount a tmpfs at ${dir}: ${(err as Error).message}\n`);
    return false;
  }
}

/** Remounts a mounted tmpfs read-only or read-write. */
export async function remount(dir: string, mode: 'ro' | 'rw'): Promise<void> {
  await run('mount', ['-o', `remount,${mode}`, dir]);
}

/** Unmounts a tmpfs; ignores one that is not mounted. */
export async function unmount(dir: string): Promise<void> {
  await run('umount', [dir]).catch(() => undefined);
}

/** Fills the file system holding `dir` with a filler file until no byte is left. */
export async function fill(dir: string): Promise<void> {
  const handle = await open(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(4096, 0x78);
  try {
    for (;;) await handle.write(block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await handle.close();
  }
}
