// The sendmail command line, as cron, mailx and PHP's mail() write it: getopt-style letters that
// may be clustered (`-ti`) or carry their value in the same word (`-fuser`, `-oi`, `-FCronDaemon`).
// Pure: argv in, one request out. Options other MTAs' sendmail accept but that change nothing
// here are accepted and ignored, so callers that pass them still get their mail through.

/** What a sendmail command line asks for. */
export type SendmailInvocation =
  | {
      readonly mode: 'send';
      readonly sender: string | null;
      readonly fullName: string | null;
      readonly recipients: readonly string[];
      readonly extractRecipients: boolean;
      /** `-i`/`-oi`: a line holding a single dot does not end the message. */
      readonly ignoreDots: boolean;
      readonly configPath: string | null;
    }
  | { readonly mode: 'mailq' | 'newaliases'; readonly configPath: string | null }
  | { readonly mode: 'usage-error'; readonly problem: string };

/** Letters that take a value (in the same word or the next). */
const WITH_VALUE = new Set(['f', 'r', 'F', 'C', 'o', 'B', 'b', 'N', 'R', 'V', 'h', 'O', 'L', 'X']);
/** Letters that are flags; those not handled below are ignored. */
const FLAGS = new Set(['t', 'i', 'v', 'm', 'n', 'U', 'G']);
/** Every option letter accepted; docs/sendmail.md documents each one. */
export const SENDMAIL_OPTIONS: ReadonlySet<string> = new Set([...WITH_VALUE, ...FLAGS]);

/** `-b` modes: m (deliver, the default), p (mailq) and i (newaliases); others are refused. */
const MODES: Record<string, 'send' | 'mailq' | 'newaliases'> = { m: 'send', p: 'mailq', i: 'newaliases' };

interface State {
  mode: 'send' | 'mailq' | 'newaliases';
  sender: string | null;
  fullName: string | null;
  extractRecipients: boolean;
  ignoreDots: boolean;
  configPath: string | null;
}

/** Applies one option; returns a problem for a mistake. */
function apply(letter: string, value: string | undefined, state: State): string | undefined {
  if (letter === 't') state.extractRecipients = true;
  else if (letter === 'i') state.ignoreDots = true;
  else if (letter === 'f' || letter === 'r') state.sender = value ?? '';
  else if (letter === 'F') state.fullName = value ?? '';
  else if (letter === 'C') state.configPath = value ?? null;
  else if (letter === 'o' && value === 'i') state.ignoreDots = true;
  else if (letter === 'b') {
    const mode = MODES[value ?? ''];
    if (mode === undefined) return `unsupported mode "-b${value ?? ''}"`;
    state.mode = mode;
  }
  return undefined;
}

/** Parses the arguments after the program name. */
export function parseSendmailArgs(argv: readonly string[]): SendmailInvocation {
  const state: State = { mode: 'send', sender: null, fullName: null, extractRecipients: false, ignoreDots: false, configPath: null };
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-') break;
    for (let j = 1; j < word.length; j++) {
      const letter = word[j] as string;
      if (WITH_VALUE.has(letter)) {
        const value = j + 1 < word.length ? word.slice(j + 1) : argv[++i];
        if (value === undefined) return { mode: 'usage-error', problem: `option -${letter} needs a value` };
        const problem = apply(letter, value, state);
        if (problem) return { mode: 'usage-error', problem };
        break;
      }
      if (!FLAGS.has(letter)) return { mode: 'usage-error', problem: `unknown option "-${letter}"` };
      apply(letter, undefined, state);
    }
  }
  const { mode, configPath } = state;
  if (mode !== 'send') return { mode, configPath };
  return { ...state, mode, recipients: argv.slice(i) };
}
