// How to start another copy of this program (a worker). `node dist/mta.cjs` re-executes node with
// the bundle's path; a single-executable binary (node:sea) re-executes itself, and there
// process.argv[1] is the program name as typed (`sendmail` through a link), not a script.
import { isSea } from 'node:sea';

/** The file to execute and the arguments that make it run this program, before any of ours. */
export interface SelfCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/** The command that starts this program again. Node flags (execArgv, e.g. --inspect) are not passed on. */
export function selfCommand(): SelfCommand {
  if (isSea()) return { file: process.execPath, args: [] };
  // argv[1] is the script node was started with; __filename is the bundle when argv[1] is missing.
  return { file: process.execPath, args: [process.argv[1] ?? __filename] };
}
