// Starts the built executable (dist/mta.cjs, or the single executable named by MTA_BIN) on
// loopback with a config written for the test, waits for readiness by retrying connect (never by
// sleeping), and stops it by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const MTA = path.join(ROOT, 'dist/mta.cjs');
/** The single executable to test instead of the bundle (`MTA_BIN=dist/mta npm test`), if any. */
export const MTA_BIN = process.env['MTA_BIN'] ? path.resolve(ROOT, process.env['MTA_BIN']) : undefined;

/** The command that runs the program under test with `args`. */
export function mtaCommand(args: readonly string[], program: string = MTA_BIN ?? MTA): { file: string; args: string[] } {
  return MTA_BIN ? { file: program, args: [...args] } : { file: process.execPath, args: [program, ...args] };
}

let linkDir: string | undefined;

/**
 * Returns a link named `name` (sendmail, mailq, newaliases) to the program under test: the
 * program answers to the name it was started by, as the package's links do.
 */
export function programLink(name: string): string {
  linkDir ??= mkdtempSync(path.join(os.tmpdir(), 'mta-links-'));
  chmodSync(linkDir, 0o755);
  const link = path.join(linkDir, name);
  if (!existsSync(link)) symlinkSync(MTA_BIN ?? MTA, link);
  return link;
}

/** The command that runs the program under test as `name` (through a link) with `args`. */
export function programCommand(name: string, args: readonly string[]): { file: string; args: string[] } {
  return mtaCommand(args, programLink(name));
}

/** A running mta under test. */
export interface RunningServer {
  readonly port: number;
  readonly dir: string;
  readonly configPath: string;
  readonly process: ChildProcess;
  /** Everything the server wrote on stderr (logs when log.file is unset). */
  output(): string;
  /** Sends a signal and waits for the exit; resolves with the exit code or signal name. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Finds a port that is free on 127.0.0.1 and ::1 right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer().listen({ host: '127.0.0.1', port: 0 }, () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
      s.on('error', reject);
    });
    const v6Free = await new Promise<boolean>((resolve) => {
      const s = net.createServer().listen({ host: '::1', port, ipv6Only: true }, () => s.close(() => resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (v6Free) return port;
  }
}

/** Retries a TCP connect until it succeeds or the deadline passes. */
export async function waitForPort(port: number, host = '127.0.0.1', deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mta did not listen on ${host}:${port} in time`);
    await new Promise((r) => setTimeout(r, 50)); // a pause between polls, not a guess at readiness
  }
}

/** Retries connecting until a connection is greeted with 220 or the deadline passes. */
export async function waitForGreeting(port: number, host = '127.0.0.1', deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const greeted = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      const done = (ok: boolean) => {
        clearTimeout(timer);
        s.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), 1000);
      s.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('220')));
      s.on('error', () => done(false));
    });
    if (greeted) return;
    if (Date.now() > until) throw new Error(`mta did not greet on ${host}:${port} in time`);
    await new Promise((r) => setTimeout(r, 50)); // a pause between polls, not a guess at readiness
  }
}

/**
 * Tests never ask the machine's resolvers (they point off the machine): unless a test brings its
 * own DNS server, lookups go to a loopback port where nothing answers, so remote mail is deferred
 * with a DNS failure and never leaves.
 */
const DEFAULT_DNS = 'dns = { servers = [ "127.0.0.1:1" ]; timeout = 1; };';

/** The service user for tests run as root; none otherwise (mta then keeps the caller's uid). */
export const RUN_AS = process.getuid?.() === 0 ? 'user = "nobody"; group = "nogroup";' : '';

/** Options for a test server; `extra` is libconfig text appended to the generated config. */
export interface ServerOptions {
  readonly server?: string;
  readonly top?: string;
  /** The settings inside `maildir = { root = ...; ... };`. @default 'create_mailboxes = true;' */
  readonly maildir?: string;
  readonly dir?: string;
  readonly port?: number;
  /** The settings inside `log = { ... };`. @default 'level = "debug";' */
  readonly log?: string;
  /**
   * Ready means a connection got its 220 greeting, not only that connect succeeded (the socket
   * accepts before the server serves). Attempts that get nothing within a second are retried.
   * @default false
   */
  readonly awaitGreeting?: boolean;
  /** The local domains. @default [ "example.org", "example.com" ] */
  readonly domains?: readonly string[];
  /** The IPv4 address to listen on (with [::1] beside it). @default '127.0.0.1' */
  readonly host?: string;
  /** More `server.listen` entries after the two on `port` (e.g. `"127.0.0.1:2587/submission"`). @default [] */
  readonly extraListen?: readonly string[];
}

/** Writes a config into a fresh temp dir and starts mta on it. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'mta-e2e-'));
  // As root (CI), mta drops to nobody, which must be able to reach its directories.
  chmodSync(dir, 0o755);
  const port = options.port ?? (await freePort());
  const configPath = path.join(dir, 'mta.conf');
  writeFileSync(
    configPath,
    `hostname = "mx.test";
domains = [ ${(options.domains ?? ['example.org', 'example.com']).map((d) => `"${d}"`).join(', ')} ];
${RUN_AS}
${options.top ?? ''}
${options.top?.includes('dns =') ? '' : DEFAULT_DNS}
log = { ${options.log ?? 'level = "debug";'} };
server = {
  listen = [ "${options.host ?? '127.0.0.1'}:${port}", "[::1]:${port}"${(options.extraListen ?? []).map((l) => `, "${l}"`).join('')} ];
  relay_networks = [ "127.0.0.2/32" ];
  ${options.server?.includes('reverse_dns') ? '' : 'reverse_dns = "off";'}
  ${options.server ?? ''}
};
maildir = { root = "${dir}/mail"; ${options.maildir ?? 'create_mailboxes = true;'} };
queue = { root = "${dir}/queue"; };
`,
  );
  const command = mtaCommand(['-f', configPath]);
  const child = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  await Promise.race([
    options.awaitGreeting ? waitForGreeting(port, options.host) : waitForPort(port, options.host),
    exited.then((c) => {
      throw new Error(`mta exited (${c}) before listening:\n${out}`);
    }),
  ]);
  return {
    port,
    dir,
    configPath,
    process: child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
