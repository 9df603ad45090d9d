// Command-line parsing for `mta`: argv in, one Invocation out. Pure: no I/O, no process exit;
// main.ts acts on the result. node:util's parseArgs splits the words (clusters such as `-tf FILE`
// and `-fFILE`, as getopt does); this file gives them meaning. Arguments after `mta queue` and
// `mta user` belong to that command, except `-f FILE`, which is taken here.
import { parseArgs as splitArgs } from 'node:util';

/** What the command line asks for. */
export type Invocation =
  | { readonly mode: 'run'; readonly configPath: string | null }
  | { readonly mode: 'test'; readonly configPath: string | null }
  | { readonly mode: 'config-json'; readonly configPath: string }
  | { readonly mode: 'queue'; readonly args: readonly string[]; readonly configPath: string | null }
  | { readonly mode: 'newaliases'; readonly configPath: string | null }
  | { readonly mode: 'user'; readonly args: readonly string[]; readonly configPath: string | null }
  | { readonly mode: 'version' }
  | { readonly mode: 'help' }
  | { readonly mode: 'usage-error'; readonly problem: string };

/** The text of `mta --help`. */
export const USAGE = `Usage:
  mta [-f FILE]                  run the mail server in the foreground
                                 (without -f: the embedded default, listening on port 2525)
  mta -t [-f FILE]               check a configuration file and print every problem in it
  mta config --json FILE         print the parsed configuration file as one line of JSON
  mta queue COMMAND [ARGS] [-f FILE]
                                 list, show, flush or delete queued messages
  mta newaliases [-f FILE]       check the aliases file the configuration names
                                 (maildir.aliases): 0 if valid, 1 with FILE:LINE: messages
  mta user COMMAND [ARGS] [-f FILE]
                                 manage the users who may authenticate (SMTP AUTH):
                                 add LOGIN [--address ADDR]... [--password-stdin],
                                 passwd LOGIN [--password-stdin], del LOGIN, list,
                                 enable LOGIN, disable LOGIN,
                                 address add LOGIN ADDR..., address del LOGIN ADDR...
  mta --version                  print the version
  mta --help                     print this help

Options:
  -f, --file FILE   configuration file in libconfig format (see docs/configuration.md)
  -t, --test        check the configuration and exit: 0 if valid, 1 with FILE:LINE: messages if not
  -h, --help        print this help
  -V, --version     print the version

Exit status: 0 success, 1 configuration or runtime error, 64 command-line mistake.

Started as sendmail, mailq or newaliases (links to mta), it submits a message read on stdin,
lists the queue or checks the aliases, reading /etc/mta.conf: see sendmail(8).
`;

/** Formats a usage problem as the one line printed on stderr. */
export function usageLine(problem: string): string {
  return `mta: ${problem}; try "mta --help"`;
}

const COMMANDS = ['config', 'queue', 'newaliases', 'user'] as const;
type Command = (typeof COMMANDS)[number];

const OPTIONS = {
  file: { type: 'string', short: 'f', multiple: true },
  test: { type: 'boolean', short: 't' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

type Token = NonNullable<ReturnType<typeof splitArgs<{ options: typeof OPTIONS; tokens: true; strict: false; allowPositionals: true }>>['tokens']>[number];

/** What has been read so far. */
interface State {
  configPath: string | null;
  isTest: boolean;
  isJson: boolean;
  command: Command | null;
  readonly operands: string[];
  /** The argv index of the last option handed to the queue or user command. */
  lastQueueOption?: number;
}

const usage = (problem: string): Invocation => ({ mode: 'usage-error', problem });

/** Reads one option token; returns an invocation when it settles the matter (help, a mistake). */
function option(token: Extract<Token, { kind: 'option' }>, state: State, argv: readonly string[]): Invocation | undefined {
  if (token.name === 'file') {
    if (token.value === undefined || token.value === '') return usage(`option ${token.rawName} needs a file argument`);
    if (state.configPath !== null) return usage(`option ${token.rawName} given twice`);
    state.configPath = token.value;
    return undefined;
  }
  // Every other option after `mta queue` or `mta user` is that command's, exactly as typed.
  if (state.command === 'queue' || state.command === 'user') {
    // A cluster such as `-av` comes as one token per letter, all with the word's index.
    if (token.index !== state.lastQueueOption) state.operands.push(argv[token.index] ?? token.rawName);
    state.lastQueueOption = token.index;
    return undefined;
  }
  if (token.name === 'help') return { mode: 'help' };
  if (token.name === 'version') return { mode: 'version' };
  if (token.name === 'test' && token.value === undefined) state.isTest = true;
  else if (token.name === 'json' && token.value === undefined) state.isJson = true;
  else return usage(`unknown option "${token.rawName}"`);
  return undefined;
}

function positional(value: string, state: State): Invocation | undefined {
  if (state.command !== null) {
    state.operands.push(value);
    return undefined;
  }
  const command = COMMANDS.find((c) => c === value);
  if (command === undefined) return usage(`unknown command "${value}"`);
  state.command = command;
  return undefined;
}

function finish(state: State): Invocation {
  const { configPath, isTest, isJson, command, operands } = state;
  if (command === null) {
    if (isJson) return usage('option --json is only for "mta config --json FILE"');
    return { mode: isTest ? 'test' : 'run', configPath };
  }
  if (isTest) return usage(`option -t cannot be combined with "mta ${command}"`);
  if (command === 'newaliases') {
    if (isJson) return usage('option --json is only for "mta config --json FILE"');
    // Debian's newaliases takes no file: the aliases file is the one the configuration names.
    if (operands.length > 0) return usage(`"mta newaliases" takes no arguments (got "${operands[0]}"); it checks maildir.aliases of -f FILE`);
    return { mode: 'newaliases', configPath };
  }
  if (command === 'queue') {
    if (isJson) return usage('option --json is only for "mta config --json FILE"');
    if (operands.length === 0) return usage('missing queue command (list, show, flush or delete)');
    return { mode: 'queue', args: operands, configPath };
  }
  if (command === 'user') {
    if (isJson) return usage('option --json is only for "mta config --json FILE"');
    if (operands.length === 0) return usage('missing user command (add, passwd, del, list, enable, disable or address)');
    return { mode: 'user', args: operands, configPath };
  }
  if (!isJson) return usage('"mta config" needs --json');
  if (operands.length + (configPath === null ? 0 : 1) > 1) return usage('"mta config --json" takes one file');
  const path = configPath ?? operands[0];
  if (path === undefined || path === '') return usage('missing file for "mta config --json FILE"');
  return { mode: 'config-json', configPath: path };
}

/** Parses the arguments after the program name into what `mta` should do. */
export function parseArgs(argv: readonly string[]): Invocation {
  const { tokens } = splitArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const state: State = { configPath: null, isTest: false, isJson: false, command: null, operands: [] };
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    const done = token.kind === 'option' ? option(token, state, argv) : positional(token.value, state);
    if (done) return done;
  }
  return finish(state);
}
