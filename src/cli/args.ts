// Command-line parsing for `mta`: argv in, one Invocation out. Pure: no I/O, no process exit;
// main.ts acts on the result. Short options may be clustered (`-tf FILE`, `-fFILE`), as getopt does.
// Arguments after `mta queue` belong to the queue command, except `-f FILE`, which is taken here.

/** What the command line asks for. */
export type Invocation =
  | { readonly mode: 'run'; readonly configPath: string | null }
  | { readonly mode: 'test'; readonly configPath: string | null }
  | { readonly mode: 'config-json'; readonly configPath: string }
  | { readonly mode: 'queue'; readonly args: readonly string[]; readonly configPath: string | null }
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
  mta --version                  print the version
  mta --help                     print this help

Options:
  -f, --file FILE   configuration file in libconfig format (see docs/configuration.md)
  -t, --test        check the configuration and exit: 0 if valid, 1 with FILE:LINE: messages if not
  -h, --help        print this help
  -V, --version     print the version

Exit status: 0 success, 1 configuration or runtime error, 64 command-line mistake.
`;

/** Formats a usage problem as the one line printed on stderr. */
export function usageLine(problem: string): string {
  return `mta: ${problem}; try "mta --help"`;
}

const COMMANDS = ['config', 'queue'] as const;
type Command = (typeof COMMANDS)[number];

/** What has been read so far. */
interface State {
  configPath: string | null;
  isTest: boolean;
  isJson: boolean;
  command: Command | null;
  readonly operands: string[];
}

type Step = { readonly consumed: number } | { readonly done: Invocation };

const usage = (problem: string): { done: Invocation } => ({ done: { mode: 'usage-error', problem } });

function setFile(state: State, path: string | undefined, option: string): Step | null {
  if (path === undefined || path === '') return usage(`option ${option} needs a file argument`);
  if (state.configPath !== null) return usage(`option ${option} given twice`);
  state.configPath = path;
  return null;
}

/** Reads a cluster of short options such as `-t`, `-tf FILE` or `-fFILE`. */
function shortOptions(arg: string, next: string | undefined, state: State): Step {
  for (let i = 1; i < arg.length; i++) {
    const letter = arg[i];
    if (letter === 'h') return { done: { mode: 'help' } };
    if (letter === 'V') return { done: { mode: 'version' } };
    if (letter === 't') {
      state.isTest = true;
    } else if (letter === 'f') {
      const inline = arg.slice(i + 1);
      return setFile(state, inline !== '' ? inline : next, '-f') ?? { consumed: inline !== '' ? 1 : 2 };
    } else {
      return usage(`unknown option "-${letter ?? ''}"`);
    }
  }
  return { consumed: 1 };
}

/** Reads one argument (and its value, if it takes one) outside the queue command's arguments. */
function step(arg: string, next: string | undefined, state: State): Step {
  if (arg === '--help') return { done: { mode: 'help' } };
  if (arg === '--version') return { done: { mode: 'version' } };
  if (arg === '--test') {
    state.isTest = true;
    return { consumed: 1 };
  }
  if (arg === '--json') {
    state.isJson = true;
    return { consumed: 1 };
  }
  if (arg === '--file') return setFile(state, next, '--file') ?? { consumed: 2 };
  if (arg.startsWith('--file=')) return setFile(state, arg.slice('--file='.length), '--file') ?? { consumed: 1 };
  if (arg.startsWith('--')) return usage(`unknown option "${arg.split('=')[0] ?? arg}"`);
  if (arg.startsWith('-') && arg !== '-') return shortOptions(arg, next, state);
  if (state.command === null) {
    const command = COMMANDS.find((c) => c === arg);
    if (command === undefined) return usage(`unknown command "${arg}"`);
    state.command = command;
  } else {
    state.operands.push(arg);
  }
  return { consumed: 1 };
}

/** Reads one argument of `mta queue ...`: `-f FILE` is ours, everything else is the queue command's. */
function queueStep(arg: string, next: string | undefined, state: State): Step {
  if (arg === '-f' || arg === '--file') return setFile(state, next, arg) ?? { consumed: 2 };
  if (arg.startsWith('--file=')) return setFile(state, arg.slice('--file='.length), '--file') ?? { consumed: 1 };
  if (/^-f./.test(arg)) return setFile(state, arg.slice(2), '-f') ?? { consumed: 1 };
  state.operands.push(arg);
  return { consumed: 1 };
}

function finish(state: State): Invocation {
  const { configPath, isTest, isJson, command, operands } = state;
  if (command === null) {
    if (isJson) return { mode: 'usage-error', problem: 'option --json is only for "mta config --json FILE"' };
    return { mode: isTest ? 'test' : 'run', configPath };
  }
  if (isTest) return { mode: 'usage-error', problem: `option -t cannot be combined with "mta ${command}"` };
  if (command === 'queue') {
    if (isJson) return { mode: 'usage-error', problem: 'option --json is only for "mta config --json FILE"' };
    if (operands.length === 0) return { mode: 'usage-error', problem: 'missing queue command (list, show, flush or delete)' };
    return { mode: 'queue', args: operands, configPath };
  }
  if (!isJson) return { mode: 'usage-error', problem: '"mta config" needs --json' };
  if (operands.length + (configPath === null ? 0 : 1) > 1) return { mode: 'usage-error', problem: '"mta config --json" takes one file' };
  const path = configPath ?? operands[0];
  if (path === undefined || path === '') return { mode: 'usage-error', problem: 'missing file for "mta config --json FILE"' };
  return { mode: 'config-json', configPath: path };
}

/** Parses the arguments after the program name into what `mta` should do. */
export function parseArgs(argv: readonly string[]): Invocation {
  const state: State = { configPath: null, isTest: false, isJson: false, command: null, operands: [] };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    const result = state.command === 'queue' ? queueStep(arg, next, state) : step(arg, next, state);
    if ('done' in result) return result.done;
    i += result.consumed;
  }
  return finish(state);
}
