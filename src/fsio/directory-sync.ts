// Group commit for directories: a rename is durable once its directory is fsync'd, and one fsync
// covers every rename made in that directory before the fsync started. Concurrent sessions that
// publish into one directory (a busy mailbox's new/, the queue's incoming/) therefore share
// fsyncs: a caller waits for the first fsync that starts after its call, and while one runs,
// every caller that arrives joins the single next one.
import { fsyncPath } from './durable.js';

interface DirectoryState {
  /** The fsync under way, if any. */
  running?: Promise<void>;
  /** The fsync that starts when the running one ends, shared by everyone who asked meanwhile. */
  next?: Promise<void>;
}

/** Makes every rename done in a directory before the call durable; rejects if the fsync that covers it fails. */
export type DirectorySync = (dir: string) => Promise<void>;

/** Builds a group-committing directory sync over `fsync` (one per process is enough: see syncDirectory). */
export function groupSync(fsync: (dir: string) => Promise<void>): DirectorySync {
  const directories = new Map<string, DirectoryState>();
  const start = (dir: string, state: DirectoryState): Promise<void> => {
    const run = fsync(dir).finally(() => {
      if (state.running === run) state.running = undefined;
      if (!state.running && !state.next) directories.delete(dir);
    });
    state.running = run;
    return run;
  };
  return (dir) => {
    const state = directories.get(dir) ?? {};
    directories.set(dir, state);
    if (!state.running) return start(dir, state);
    state.next ??= state.running
      .catch(() => undefined)
      .then(() => {
        state.next = undefined;
        return start(dir, state);
      });
    return state.next;
  };
}

/** The process's directory sync. */
export const syncDirectory: DirectorySync = groupSync(fsyncPath);
