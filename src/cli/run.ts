// Run mode (`mta -f FILE`). As root: creates the directories, writes the pid file, opens the log,
// binds every listen address and reads the TLS keys, then drops to the service user for good.
// Unprivileged from there on: checks the directories are usable, opens (or creates) the user
// database, recovers the queue once, and hands over to the
// Supervisor, which forks the workers (the same program with MTA_ROLE set; see main.ts) and
// serves until SIGTERM/SIGINT. Operator mistakes end in one line on stderr and exit 1.
import { accessSync, constants, realpathSync } from 'node:fs';
import type { Server } from 'node:net';
import path from 'node:path';
import type { Config } from '../config/types.js';
import { createLogger, flushLogger, type Logger, LogFile } from '../log/logger.js';
import { acquireInstanceLock } from '../system/instance-lock.js';
import { bindServer } from '../system/listen.js';
import { removePidFile, writePidFile } from '../system/pid-file.js';
import { prepareServiceDirectory } from '../system/service-directory.js';
import { dropPrivileges, handOver, type Identity, isRoot, PrivilegeError, resolveIdentity } from '../system/privileges.js';
import { SignalCatcher } from '../system/signals.js';
import { Supervisor } from '../system/supervisor.js';
import { TlsKeyError } from '../tls/server.js';
import { reloadRunning } from './reload.js';
import { loadTlsKeys, logCertificates, reloadTlsKeys } from './serving-config.js';
import { openUserDatabase, prepareUserDatabaseDirectory } from './user-database.js';
import { VERSION } from './version.js';
import { discardSpoolsOf, recover, type Running, supervisorSettings } from './wiring.js';

/** A start-up failure with the one line to print. */
class StartError extends Error {}

/** Runs the daemon in the foreground on a config and its aliases; resolves with the process exit code. */
export async function run(running: Running, configPath: string | null): Promise<number> {
  const started: Started = { servers: [], logger: undefined, logFile: undefined, pidFile: undefined };
  try {
    return await serve(running, configPath, started);
  } catch (err) {
    for (const server of started.servers) server.close();
    if (started.logger) await flushLogger(started.logger);
    await started.logFile?.close();
    if (started.pidFile) removePidFile(started.pidFile);
    if (!(err instanceof StartError || err instanceof PrivilegeError)) throw err;
    process.stderr.write(`mta: ${err.message}\n`);
    return 1;
  }
}

/** What start-up has opened so far, to close if it fails. */
interface Started {
  servers: Server[];
  logger: Logger | undefined;
  logFile: LogFile | undefined;
  pidFile: string | undefined;
}

async function serve(running: Running, configPath: string | null, started: Started): Promise<number> {
  const { config } = running;
  const signals = new SignalCatcher();
  const identity = serviceIdentity(config, configPath);
  prepareDirectories(config, identity);
  const tlsKeys = readTlsKeys(config);
  // Before the pid file: a second daemon must not overwrite the first one's.
  await lockQueue(config);
  if (config.pidFile) writePid(config.pidFile, started);
  const logFile = await openLog(config, identity);
  started.logFile = logFile;
  const logger = createLogger(config.log.level, logFile.stream);
  started.logger = logger;
  started.servers = await bindAll(config);
  logCertificates(tlsKeys, logger);
  // Connections arriving during recovery wait in the supervisor until a worker is ready.
  // SIGHUP: the config and aliases file again, then the TLS keys (read as the service user now).
  const reload = (current: Running): Running | undefined => {
    const next = reloadRunning(configPath, current, logger);
    if (!next) return undefined;
    logger.level = next.config.log.level;
    return { ...next, ...reloadTlsKeys(next.config, current, logger) };
  };
  const onWorkerDied = (role: string, pid: number) => void discardSpoolsOf(config, pid, logger.child({ component: 'queue', role, worker: pid }));
  const settings = (r: Running) => supervisorSettings(r.config);
  const serving: Running = { ...running, tlsKeys };
  const supervisor = new Supervisor({ config: serving, settings, reload, onWorkerDied, servers: started.servers, logFile, logger, signals });
  if (identity) dropPrivileges(identity);
  checkWritable(config, identity);
  checkUserDatabase(config, identity);
  const report = await recover(config, logger.child({ component: 'queue' })).catch((err: unknown) => {
    throw new StartError(`cannot use queue directory ${config.queue.root}: ${errorText(err)}`);
  });
  const user = identity?.user ?? process.getuid?.();
  const listen = config.server.listen.map((a) => a.text);
  const recovered = { messages: report.resumed, corrupt: report.quarantined.length, removedTemp: report.removedTemp };
  logger.info({ version: VERSION, user, config: configPath ?? '(embedded default)', listen, recovered }, 'started');
  const code = await supervisor.run();
  if (config.pidFile) {
    const problem = removePidFile(config.pidFile);
    if (problem) logger.warn({ file: config.pidFile, err: problem }, 'cannot remove pid file');
  }
  await flushLogger(logger);
  await logFile.close();
  return code;
}

/** The identity to drop to when root; refuses to serve as root without one. */
function serviceIdentity(config: Config, configPath: string | null): Identity | undefined {
  if (!isRoot()) return undefined;
  // Trying mta out as root on the embedded default: serve as nobody rather than refuse.
  if (config.user === null && configPath === null) return resolveIdentity('nobody', null);
  if (config.user === null) {
    throw new StartError(`refusing to run as root: set "user" (and "group") in ${configPath ?? 'a config file given with -f'}`);
  }
  return resolveIdentity(config.user, config.group);
}

/** The directories the service user writes after the drop, with their modes. */
function serviceDirectories(config: Config): [string, number][] {
  const dirs: [string, number][] = [
    // 0711, not 0700: local users must reach <queue>/maildrop to submit with sendmail; they can
    // list nothing (the state folders inside are 0700).
    [config.queue.root, 0o711],
    [config.maildir.root, 0o755],
  ];
  // The log directory too: after `mv mta.log mta.log.1` the reopen creates the new file as the service user.
  if (config.log.file) dirs.push([path.dirname(config.log.file), 0o755]);
  return dirs;
}

/** Reads the certificates and keys while still root; a problem with them stops the start. */
function readTlsKeys(config: Config): Running['tlsKeys'] {
  try {
    return loadTlsKeys(config);
  } catch (err) {
    if (err instanceof TlsKeyError) throw new StartError(err.message);
    throw err;
  }
}

/** Opens the user database as the service user, creating it (and its tables) on the first start. */
function checkUserDatabase(config: Config, identity: Identity | undefined): void {
  try {
    openUserDatabase(config.auth.database).close();
  } catch (err) {
    const who = identity ? ` as user ${identity.user}` : '';
    throw new StartError(`cannot open user database ${config.auth.database}${who}: ${errorText(err)}`);
  }
}

/** Creates the missing service directories for the service user; existing ones are left as they are. */
function prepareDirectories(config: Config, identity: Identity | undefined): void {
  try {
    prepareUserDatabaseDirectory(config.auth.database, identity);
  } catch (err) {
    throw new StartError(`cannot create directory ${path.dirname(config.auth.database)}: ${errorText(err)}`);
  }
  for (const [dir, mode] of serviceDirectories(config)) {
    try {
      prepareServiceDirectory(dir, mode, identity);
    } catch (err) {
      throw new StartError(`cannot create directory ${dir}: ${errorText(err)}`);
    }
  }
}

/** After the drop: every directory must be usable by the user we now are, or nothing works later. */
function checkWritable(config: Config, identity: Identity | undefined): void {
  for (const [dir] of serviceDirectories(config)) {
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      const who = identity ? ` as user ${identity.user}` : '';
      throw new StartError(`cannot write to directory ${dir}${who}: ${errorText(err)}`);
    }
  }
}

/** Holds the queue for this daemon's lifetime (the kernel frees it at exit), or refuses to start. */
async function lockQueue(config: Config): Promise<void> {
  const lock = await acquireInstanceLock(realpathSync(config.queue.root));
  if (lock.kind === 'busy') {
    const holder = lock.pid === undefined ? 'another process' : `pid ${lock.pid}`;
    throw new StartError(`queue ${config.queue.root} is in use by ${holder}`);
  }
}

function writePid(file: string, started: Started): void {
  try {
    writePidFile(file, process.pid);
    started.pidFile = file;
  } catch (err) {
    throw new StartError(`cannot write pid file ${file}: ${errorText(err)}`);
  }
}

async function openLog(config: Config, identity: Identity | undefined): Promise<LogFile> {
  try {
    const logFile = await LogFile.open(config.log.file);
    if (identity && config.log.file) handOver(config.log.file, identity);
    return logFile;
  } catch (err) {
    throw new StartError(`cannot open log file ${config.log.file}: ${errorText(err)}`);
  }
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need root)',
  EADDRNOTAVAIL: 'address not available on this host',
  EAFNOSUPPORT: 'address family not supported',
};

async function bindAll(config: Config): Promise<Server[]> {
  const servers: Server[] = [];
  for (const address of config.server.listen) {
    try {
      servers.push(await bindServer(address.host, address.port, { pauseOnConnect: true }));
    } catch (err) {
      for (const s of servers) s.close();
      const code = (err as { code?: string }).code ?? '';
      throw new StartError(`cannot bind ${address.text}: ${BIND_ERRORS[code] ?? errorText(err)}`);
    }
  }
  return servers;
}

const ERROR_TEXT: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is not a directory',
  // mkdir -p meets a file where a directory should be
  EEXIST: 'a path component is not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EISDIR: 'is a directory',
};

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return (e.code && ERROR_TEXT[e.code]) ?? e.code ?? e.message ?? String(err);
}
