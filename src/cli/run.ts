// Run mode (`mta -f FILE`): builds the modules from a validated config and serves until signalled.
// Filled in by the SMTP server work; until then it only reports that the config loaded.
import type { Config } from '../config/types.js';

/** Runs the daemon in the foreground; resolves with the process exit code. */
export async function run(config: Config, configPath: string | null): Promise<number> {
  process.stderr.write(`mta: configuration ${configPath ?? '(embedded default)'} loaded for ${config.hostname}\n`);
  return 0;
}
