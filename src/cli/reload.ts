// SIGHUP's config reload: loads a complete new Config from the same file; if it is invalid every
// problem is logged and the old config stays. Settings bound at start-up (sockets, identity,
// directories, log file, worker counts, user database) keep their old values until a restart,
// and each changed one is logged; everything else (limits, timeouts, domains, log level, TLS
// certificates: run.ts reads those again) takes effect. The aliases file is read again with it;
// if it has a problem the whole reload is abandoned.
import { ConfigError, formatProblem, loadConfig } from '../config/index.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { readAliases } from './newaliases.js';
import type { Running } from './wiring.js';

/** A setting that only a restart can change: its config key and how to read it. */
const RESTART_ONLY: readonly [string, (c: Config) => unknown][] = [
  ['server.listen', (c) => c.server.listen.map((a) => a.text)],
  ['server.workers', (c) => c.server.workers],
  ['relay.workers', (c) => c.relay.workers],
  ['user', (c) => c.user],
  ['group', (c) => c.group],
  ['pid_file', (c) => c.pidFile],
  ['log.file', (c) => c.log.file],
  ['queue.root', (c) => c.queue.root],
  ['maildir.root', (c) => c.maildir.root],
  ['auth.database', (c) => c.auth.database],
];

/**
 * Reads the config and the aliases file it names again; returns what to run on from now on, or
 * undefined to keep both (a reload is all or nothing: a bad aliases file keeps the old config too).
 */
export function reloadRunning(path: string | null, old: Running, logger: Logger): Running | undefined {
  const config = reloadConfig(path, old.config, logger);
  if (config === undefined) return undefined;
  const aliases = readAliases(config);
  if (!aliases.ok) {
    for (const problem of aliases.problems) logger.error({ file: config.maildir.aliasesFile, problem }, 'aliases file invalid; reload abandoned, keeping the running config and aliases');
    return undefined;
  }
  logger.info({ file: config.maildir.aliasesFile || null, aliases: aliases.entries.length }, 'aliases reloaded');
  // The TLS keys are read again by run.ts, which knows how to keep the running ones.
  return { config, aliases: aliases.entries, tlsKeys: old.tlsKeys };
}

/** Reads the config again; returns the config to use from now on, or undefined to keep the old one. */
export function reloadConfig(path: string | null, old: Config, logger: Logger): Config | undefined {
  if (path === null) {
    logger.info('config reload: running on the embedded default, nothing to reload');
    return undefined;
  }
  let next: Config;
  try {
    next = loadConfig(path);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems.map(formatProblem) : [err instanceof Error ? err.message : String(err)];
    for (const problem of problems) logger.error({ file: path, problem }, 'config reload failed; keeping the running config');
    return undefined;
  }
  for (const [key, read] of RESTART_ONLY) {
    if (JSON.stringify(read(old)) !== JSON.stringify(read(next))) {
      logger.warn({ setting: key, running: read(old), configured: read(next) }, 'config reload: setting needs a restart; keeping the running value');
    }
  }
  logger.info({ file: path }, 'config reloaded');
  return keepRestartOnly(old, next);
}

/** The new config with the start-up-bound settings of the old one. */
function keepRestartOnly(old: Config, next: Config): Config {
  return {
    ...next,
    user: old.user,
    group: old.group,
    pidFile: old.pidFile,
    log: { ...next.log, file: old.log.file },
    server: { ...next.server, listen: old.server.listen, workers: old.server.workers },
    relay: { ...next.relay, workers: old.relay.workers },
    queue: old.queue,
    maildir: { ...next.maildir, root: old.maildir.root },
    auth: { ...next.auth, database: old.auth.database },
  };
}
