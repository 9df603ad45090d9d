// `mta user add|passwd|del|list|enable|disable|address`: the users who may authenticate over
// SMTP AUTH (and, through Dovecot's passdb, over IMAP). Run as root it acts as the configured
// service user, as `mta queue` acts as the queue's owner, so the database stays the daemon's.
// Passwords come from a prompt on the terminal (asked twice, not echoed) or, with
// --password-stdin, from the first line of stdin; they never appear in argv.
import { parseArgs } from 'node:util';
import { hashPassword } from '../auth/password.js';
import type { UserDatabase } from '../auth/user-db.js';
import type { Config } from '../config/types.js';
import { parsePath } from '../smtp/address.js';
import { dropPrivileges, type Identity, isRoot, resolveIdentity } from '../system/privileges.js';
import { openUserDatabase, prepareUserDatabaseDirectory } from './user-database.js';

const EX_USAGE = 64;
const USAGE = `usage: mta user add LOGIN [--address ADDR]... [--password-stdin]
       mta user passwd LOGIN [--password-stdin]
       mta user del LOGIN
       mta user list
       mta user enable LOGIN | disable LOGIN
       mta user address add LOGIN ADDR... | address del LOGIN ADDR...
`;
const MAX_PASSWORD_BYTES = 1024;
const MAX_LOGIN_CHARS = 256;

/** Where a user command writes and how it gets a new password; tests pass their own. */
export interface UserCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Reads a new password: the first line of stdin, or asked twice on the terminal. */
  readonly readPassword: (fromStdin: boolean) => Promise<string>;
}

/** A mistake in the arguments or the input: printed as `mta: user: message`, exit 1 (or 64 for usage). */
class UserCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Runs one user subcommand as the service user; resolves with the process exit code. */
export async function userCommand(args: readonly string[], config: Config, configPath: string | null): Promise<number> {
  const file = config.auth.database;
  try {
    const identity = actingIdentity(config, configPath);
    prepareUserDatabaseDirectory(file, identity);
    if (identity) dropPrivileges(identity);
  } catch (err) {
    process.stderr.write(`mta: user: cannot act as the service user on ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  const io: UserCommandIo = {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readPassword: (fromStdin) => (fromStdin ? readStdinPassword() : promptPasswordTwice()),
  };
  return runUserCommand(args, file, io);
}

/** Whom to act as when root: the daemon's user (nobody for the embedded default, as run mode does). */
function actingIdentity(config: Config, configPath: string | null): Identity | undefined {
  if (!isRoot()) return undefined;
  if (config.user !== null) return resolveIdentity(config.user, config.group);
  return configPath === null ? resolveIdentity('nobody', null) : undefined;
}

/** Runs one user subcommand on the database at `file`, writing to `io`. */
export async function runUserCommand(args: readonly string[], file: string, io: UserCommandIo): Promise<number> {
  let db: UserDatabase | undefined;
  try {
    const { verb, values, positionals } = splitArgs(args);
    db = openUserDatabase(file);
    return await dispatch(db, verb, positionals, values, io);
  } catch (err) {
    if (err instanceof UserCommandError) {
      io.err(err.exitCode === EX_USAGE ? `mta: user: ${err.message}\n${USAGE}` : `mta: user: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`mta: user: cannot use user database ${file}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    db?.close();
  }
}

interface Options {
  address?: string[];
  'password-stdin'?: boolean;
}

function splitArgs(args: readonly string[]): { verb: string; values: Options; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args: [...args],
      options: { address: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    const [verb = '', ...positionals] = parsed.positionals;
    return { verb, values: parsed.values, positionals };
  } catch (err) {
    throw new UserCommandError((err as Error).message.split('\n')[0] ?? 'bad arguments', EX_USAGE);
  }
}

type Handler = (db: UserDatabase, operands: string[], options: Options, io: UserCommandIo) => Promise<number>;

const HANDLERS: Record<string, { operands: [min: number, max: number]; options: (keyof Options)[]; run: Handler }> = {
  add: { operands: [1, 1], options: ['address', 'password-stdin'], run: add },
  passwd: { operands: [1, 1], options: ['password-stdin'], run: passwd },
  del: { operands: [1, 1], options: [], run: async (db, [login], _o, io) => report(db.remove(login as string), io, `user ${login} deleted`, `no user "${login}"`) },
  list: { operands: [0, 0], options: [], run: list },
  enable: { operands: [1, 1], options: [], run: async (db, [login], _o, io) => report(db.setEnabled(login as string, true), io, `user ${login} enabled`, `no user "${login}"`) },
  disable: { operands: [1, 1], options: [], run: async (db, [login], _o, io) => report(db.setEnabled(login as string, false), io, `user ${login} disabled`, `no user "${login}"`) },
  address: { operands: [3, Infinity], options: [], run: address },
};

async function dispatch(db: UserDatabase, verb: string, operands: string[], options: Options, io: UserCommandIo): Promise<number> {
  const handler = HANDLERS[verb];
  if (!handler) throw new UserCommandError(verb === '' ? 'missing user command' : `unknown user command "${verb}"`, EX_USAGE);
  const [min, max] = handler.operands;
  if (operands.length < min || operands.length > max) throw new UserCommandError(`wrong number of arguments for "${verb}"`, EX_USAGE);
  for (const name of Object.keys(options) as (keyof Options)[]) {
    if (!handler.options.includes(name)) throw new UserCommandError(`option --${name} does not go with "${verb}"`, EX_USAGE);
  }
  return handler.run(db, operands, options, io);
}

function report(isDone: boolean, io: UserCommandIo, done: string, problem: string): number {
  if (!isDone) throw new UserCommandError(problem);
  io.out(`${done}\n`);
  return 0;
}

async function add(db: UserDatabase, [login = '']: string[], options: Options, io: UserCommandIo): Promise<number> {
  checkLogin(login);
  // A login that is an address may send as itself unless other addresses are given.
  const addresses = (options.address ?? (login.includes('@') ? [login] : [])).map(checkAddress);
  if (db.find(login)) throw new UserCommandError(`user "${login}" exists; use "mta user passwd" to change the password`);
  const hash = await hashPassword(checkPassword(await io.readPassword(options['password-stdin'] === true)));
  if (!db.add(login, hash, addresses)) throw new UserCommandError(`user "${login}" exists`);
  io.out(`user ${login.toLowerCase()} added${addresses.length > 0 ? ` with ${addresses.join(', ')}` : ' (no sender address yet: add one with "mta user address add")'}\n`);
  return 0;
}

async function passwd(db: UserDatabase, [login = '']: string[], options: Options, io: UserCommandIo): Promise<number> {
  if (!db.find(login)) throw new UserCommandError(`no user "${login}"`);
  const hash = await hashPassword(checkPassword(await io.readPassword(options['password-stdin'] === true)));
  return report(db.setPassword(login, hash), io, `password of ${login.toLowerCase()} changed`, `no user "${login}"`);
}

async function list(db: UserDatabase, _operands: string[], _options: Options, io: UserCommandIo): Promise<number> {
  const users = db.list();
  for (const u of users) io.out(`${u.login}  ${u.isEnabled ? 'enabled' : 'disabled'}  ${u.addresses.join(', ') || '(no sender address)'}\n`);
  io.out(users.length === 0 ? 'no users\n' : `-- ${users.length} user${users.length === 1 ? '' : 's'}\n`);
  return 0;
}

async function address(db: UserDatabase, [action = '', login = '', ...addresses]: string[], _options: Options, io: UserCommandIo): Promise<number> {
  if (action !== 'add' && action !== 'del') throw new UserCommandError(`unknown address command "${action}" (add or del)`, EX_USAGE);
  const checked = addresses.map(checkAddress);
  if (!db.find(login)) throw new UserCommandError(`no user "${login}"`);
  for (const a of checked) {
    if (action === 'add') io.out(db.addAddress(login, a) === 'added' ? `${a} added to ${login.toLowerCase()}\n` : `${a}: already there\n`);
    else if (db.removeAddress(login, a)) io.out(`${a} removed from ${login.toLowerCase()}\n`);
    else throw new UserCommandError(`user "${login}" has no address ${a}`);
  }
  return 0;
}

/** A login: printable, no blanks (SASL PLAIN and LOGIN carry any UTF-8, but a log line must stay one line). */
function checkLogin(login: string): void {
  if (login === '' || login.length > MAX_LOGIN_CHARS || /[\s\p{Cc}]/u.test(login)) {
    throw new UserCommandError(`"${login}" is not a usable login: 1 to ${MAX_LOGIN_CHARS} characters, no blanks or control characters`);
  }
}

/** A sender address, `local@domain`, or `@domain` for every address of a domain; lower-cased. */
export function checkAddress(text: string): string {
  const path = parsePath(`<${text.startsWith('@') ? `postmaster${text}` : text}>`, 'reverse', { utf8Allowed: true });
  if (!path.ok || path.path.isNull || path.path.domain === '' || path.path.domain.startsWith('[')) {
    throw new UserCommandError(`"${text}" is not a sender address such as "alice@example.org", or "@example.org" for a whole domain`);
  }
  return text.toLowerCase();
}

function checkPassword(password: string): string {
  if (password === '') throw new UserCommandError('the password is empty');
  if (password.includes('\0')) throw new UserCommandError('the password holds a NUL character, which SASL cannot carry');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new UserCommandError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  return password;
}

/** The first line of stdin (its line end dropped). */
async function readStdinPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return /^([^\r\n]*)/.exec(text)?.[1] ?? '';
}

async function promptPasswordTwice(): Promise<string> {
  if (!process.stdin.isTTY) throw new UserCommandError('no terminal to ask for the password on; give it on stdin with --password-stdin');
  const first = await promptHidden('New password: ');
  const second = await promptHidden('Repeat the password: ');
  if (first !== second) throw new UserCommandError('the passwords differ');
  return first;
}

/** Asks on the terminal (stderr) without echoing what is typed. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    const finish = (result: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      result();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(answer));
        if (ch === '\u0003' || (ch === '\u0004' && answer === '')) return finish(() => reject(new UserCommandError('no password given')));
        if (ch === '\u007f' || ch === '\b') answer = [...answer].slice(0, -1).join('');
        else answer += ch;
      }
    };
    process.stderr.write(question);
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
