// The composition root and bundle entry point: reads argv, loads the config, and hands over to run
// mode, the `-t` checker, `config --json`, the queue command or the user command. Operator mistakes end in one line on
// stderr and an exit status (64 usage, 1 config or I/O); only a bug in the program prints a stack.

import { ConfigError, defaultConfig, formatProblem, loadConfig, type Config } from '../config/index.js';
import { LibconfigSyntaxError, parseFile, toJSONText } from '../libconfig/index.js';
import { ioReason } from '../fsio/errno.js';
import path from 'node:path';
import { parseArgs, USAGE, usageLine } from './args.js';
import { newaliases, readAliases } from './newaliases.js';
import { queueCommand } from './queue-command.js';
import { sendmail, SYSTEM_CONFIG } from './sendmail.js';
import { parseSendmailArgs } from './sendmail-args.js';
import { EX_SOFTWARE, EX_USAGE } from './sysexits.js';
import { run } from './run.js';
import { userCommand } from './user-command.js';
import { VERSION } from './version.js';
import type { Running } from './wiring.js';
import { relayWorker } from './relay-worker.js';
import { smtpWorker } from './smtp-worker.js';
import { runWorker, workerRole } from '../system/inbox.js';

const EMBEDDED = '(embedded default)';

/** An fs error (ENOENT, EACCES, EISDIR...), as thrown by readFileSync. */
function isIoError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && 'syscall' in error;
}

/** Prints what is wrong with a config (problems, or why it cannot be read); returns null for other errors. */
function reportConfigFailure(error: unknown, path: string): number | null {
  if (error instanceof ConfigError) {
    process.stderr.write(error.problems.map((p) => `${formatProblem(p)}\n`).join(''));
    return 1;
  }
  if (error instanceof LibconfigSyntaxError) {
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  if (isIoError(error)) {
    process.stderr.write(`mta: cannot read ${error.path ?? path}: ${ioReason(error)}\n`);
    return 1;
  }
  return null;
}

/** Loads the config at path (or the embedded default); on failure prints why and returns the exit status. */
function load(path: string | null): Config | number {
  if (path === null) return defaultConfig();
  try {
    return loadConfig(path);
  } catch (error) {
    const status = reportConfigFailure(error, path);
    if (status === null) throw error;
    return status;
  }
}

/** Loads the config and the aliases file it names; on failure prints why and returns the exit status. */
function loadRunning(path: string | null): Running | number {
  const config = load(path);
  if (typeof config === 'number') return config;
  const aliases = readAliases(config);
  // The TLS keys are read by run mode as root, before the privilege drop.
  if (aliases.ok) return { config, aliases: aliases.entries, tlsKeys: null };
  process.stderr.write(aliases.problems.map((line) => `${line}\n`).join(''));
  return 1;
}

/** `mta -t [-f FILE]`: checks the config and its aliases file; every problem on stderr, or one line on stdout. */
function checkConfig(path: string | null): number {
  const running = loadRunning(path);
  if (typeof running === 'number') return running;
  process.stdout.write(`mta: configuration ${path ?? EMBEDDED} is valid\n`);
  return 0;
}

/** `mta config --json FILE`: prints the raw parsed tree as canonical JSON. */
function printJson(path: string): number {
  try {
    process.stdout.write(`${toJSONText(parseFile(path))}\n`);
    return 0;
  } catch (error) {
    const status = reportConfigFailure(error, path);
    if (status === null) throw error;
    return status;
  }
}

/** Runs what the command line asks for; resolves with the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  const invocation = parseArgs(argv);
  switch (invocation.mode) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      // The Node version too: in a single executable it is the runtime built into the binary.
      process.stdout.write(`mta ${VERSION} (Node.js ${process.version})\n`);
      return 0;
    case 'usage-error':
      process.stderr.write(`${usageLine(invocation.problem)}\n`);
      return EX_USAGE;
    case 'test':
      return checkConfig(invocation.configPath);
    case 'config-json':
      return printJson(invocation.configPath);
    case 'run': {
      const running = loadRunning(invocation.configPath);
      return typeof running === 'number' ? running : run(running, invocation.configPath);
    }
    case 'newaliases': {
      const config = load(invocation.configPath);
      return typeof config === 'number' ? config : newaliases(config, invocation.configPath);
    }
    case 'queue': {
      const config = load(invocation.configPath);
      return typeof config === 'number' ? config : queueCommand(invocation.args, config);
    }
    case 'user': {
      const config = load(invocation.configPath);
      return typeof config === 'number' ? config : userCommand(invocation.args, config, invocation.configPath);
    }
  }
}

/** The names one binary answers to besides `mta` (symbolic links, as Debian's other MTAs ship). */
const PROGRAMS = ['sendmail', 'mailq', 'newaliases'] as const;

/**
 * Runs the program named by argv[1]: the link name as typed in a single executable, the script
 * path (a link named sendmail to dist/mta.cjs) under node. mailq is `sendmail -bp` and newaliases
 * `sendmail -bi`, as elsewhere; both then run as the mta subcommands they stand for.
 */
async function dispatch(program: string, argv: readonly string[]): Promise<number> {
  if (!(PROGRAMS as readonly string[]).includes(program)) return main(argv);
  const prefix = program === 'mailq' ? ['-bp'] : program === 'newaliases' ? ['-bi'] : [];
  const invocation = parseSendmailArgs([...prefix, ...argv]);
  if (invocation.mode === 'usage-error') {
    process.stderr.write(`${program}: ${invocation.problem}\n`);
    return EX_USAGE;
  }
  if (invocation.mode === 'send') return sendmail(invocation, load, process.stdin);
  const configPath = invocation.configPath ?? SYSTEM_CONFIG;
  if (invocation.mode === 'mailq') return main(['queue', 'list', '-f', configPath]);
  // The aliases file and `mta newaliases` come with the inbound policy work.
  return main(['newaliases', '-f', configPath]);
}

/** Last resort: an operator-facing error gets one line, anything else is a bug and shows its stack. */
function reportFatal(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(error.problems.map((p) => `${formatProblem(p)}\n`).join(''));
    return 1;
  }
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string') {
    process.stderr.write(`mta: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(`mta: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EX_SOFTWARE;
}

// A worker is this program re-executed by the supervisor with MTA_ROLE set and no arguments: it
// takes its config from the channel and must not look at argv or the embedded default first.
const role = workerRole();
if (role === 'smtp') void runWorker(smtpWorker);
else if (role === 'relay') void runWorker(relayWorker);
else void dispatch(path.basename(process.argv[1] ?? ''), process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.exitCode = reportFatal(error);
  },
);
