// How to start another copy of this program (a worker). `node dist/mta.cjs` re-executes node with
// the bundle's path; a single-executable binary (node:sea) re-executes itself, and there
// process.argv[1] is the program name as typed (`sendmail` through a link), not a script.
import { isSea } from 'node:sea';

/** The file to execute and the arguments that make it run this program, before any of ours. */
export interface SelfCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/**
 * V8 flags of every worker: a young generation of 1 MiB semi-spaces instead of up to 16 MiB, so
 * that a worker streaming a 200 MB message to disk grows by about 15 MB, not 30 (measured with
 * `npm run bench`; the messages per second did not change), and `gc` for the young-generation
 * collections that free spent socket read buffers (server/read-buffers.ts). The single
 * executable has the same flags built in (packaging/sea/sea-config.json, execArgv).
 */
export const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--expose-gc'];

/** The command that starts this program again. Node flags of this process (e.g. --inspect) are not passed on. */
export function selfCommand(): SelfCommand {
  if (isSea()) return { file: process.execPath, args: [] };
  // argv[1] is the script node was started with; __filename is the bundle when argv[1] is missing.
  return { file: process.execPath, args: [...WORKER_V8_FLAGS, process.argv[1] ?? __filename] };
}
