// The pid file for init scripts. Written as root before the drop, so it may live in a directory
// only root can write (/run): then nobody but root can replace it, and the stopped daemon cannot
// remove it either (it is no longer root). In a directory the service user owns it is removed at
// clean exit. Either way it is written fresh at every start.
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes `pid` into `file` (mode 0644), creating the parent directory (root's, 0755) if missing. */
export function writePidFile(file: string, pid: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, `${pid}\n`, { mode: 0o644 });
}

/** Removes the pid file; returns the error code when it cannot (e.g. EACCES in root's /run). */
export function removePidFile(file: string): string | undefined {
  try {
    unlinkSync(file);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return code === 'ENOENT' ? undefined : code;
  }
}
