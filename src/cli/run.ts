// Run mode (`mta -f FILE`): as root, creates the directories and opens the log, binds every listen
// address and drops to the service user; then recovers the queue and serves until SIGTERM/SIGINT,
// drains and exits 0. Operator mistakes end in one line on stderr and exit 1, never a stack trace.
// TODO(mta): the supervisor and worker processes of the process-model issue replace the single process.
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/types.js';
import { createLogger, type Logger, openLogFile } from '../log/logger.js';
import type { Server } from 'node:net';
import { bindServer, Listener } from '../server/listener.js';
import { dropPrivileges, handOver, type Identity, isRoot, PrivilegeError, resolveIdentity } from '../system/privileges.js';
import { listenerOptions } from './listener-options.js';
import { buildLocalMail } from './local-mail.js';
import { VERSION } from './version.js';

/** A start-up failure with the one line to print. */
class StartError extends Error {}

/** Runs the daemon in the foreground; resolves with the process exit code. */
export async function run(config: Config, configPath: string | null): Promise<number> {
  const started: Started = { servers: [], logger: undefined };
  try {
    return await serve(config, configPath, started);
  } catch (err) {
    for (const server of started.servers) server.close();
    if (started.logger) await flush(started.logger);
    if (!(err instanceof StartError || err instanceof PrivilegeError)) throw err;
    process.stderr.write(`mta: ${err.message}\n`);
    return 1;
  }
}

/** What start-up has opened so far, to close if it fails. */
interface Started {
  servers: Server[];
  logger: Logger | undefined;
}

async function serve(config: Config, configPath: string | null, started: Started): Promise<number> {
  const identity = serviceIdentity(config, configPath);
  prepareDirectories(config, identity);
  const logger = createLogger(config.log.level, openLog(config, identity));
  started.logger = logger;
  started.servers = await bindAll(config);
  if (identity) dropPrivileges(identity);
  const mail = buildLocalMail(config, logger.child({ component: 'queue' }));
  const report = await mail.recover().catch((err: unknown) => {
    throw new StartError(`cannot use queue directory ${config.queue.root}: ${errorText(err)}`);
  });
  const listener = new Listener(listenerOptions(config, mail.sink), logger.child({ component: 'smtp' }));
  for (const server of started.servers) listener.attach(server);
  mail.runner.start();
  const user = identity?.user ?? process.getuid?.();
  logger.info({ version: VERSION, pid: process.pid, user, config: configPath ?? '(embedded default)', listen: listener.addresses(), recovered: report }, 'started');
  const signal = await nextSignal(['SIGTERM', 'SIGINT']);
  logger.info({ signal }, 'shutting down');
  await listener.drain(config.shutdownTimeoutMs);
  await mail.runner.stop();
  logger.info('stopped');
  await flush(logger);
  return 0;
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

function prepareDirectories(config: Config, identity: Identity | undefined): void {
  const dirs: [string, number][] = [
    [config.queue.root, 0o700],
    [config.maildir.root, 0o755],
  ];
  if (config.log.file) dirs.push([path.dirname(config.log.file), 0o755]);
  for (const [dir, mode] of dirs) {
    try {
      // Parents stay traversable (0755); only the directory itself gets its mode and owner.
      mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
      mkdirSync(dir, { recursive: true, mode });
      chmodSync(dir, mode);
      if (identity) handOver(dir, identity);
    } catch (err) {
      throw new StartError(`cannot create directory ${dir}: ${errorText(err)}`);
    }
  }
}

function openLog(config: Config, identity: Identity | undefined): number {
  try {
    const fd = openLogFile(config.log.file);
    if (identity && config.log.file) handOver(config.log.file, identity);
    return fd;
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
      servers.push(await bindServer(address.host, address.port));
    } catch (err) {
      for (const s of servers) s.close();
      const code = (err as { code?: string }).code ?? '';
      throw new StartError(`cannot bind ${address.text}: ${BIND_ERRORS[code] ?? errorText(err)}`);
    }
  }
  return servers;
}

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

function nextSignal(signals: readonly NodeJS.Signals[]): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, handler);
      resolve(signal);
    };
    for (const s of signals) process.on(s, handler);
  });
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
