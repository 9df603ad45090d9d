// `mta queue list|show|delete|flush`: operator commands on the on-disk queue.
// Filled in by the queue work.
import type { Config } from '../config/types.js';

/** Runs one queue subcommand; resolves with the process exit code. */
export async function queueCommand(args: readonly string[], config: Config): Promise<number> {
  process.stderr.write(`mta: queue ${args.join(' ')}: not available yet for ${config.queue.root}\n`);
  return 69;
}
