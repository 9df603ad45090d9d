// Splits an SMTP command line into its verb and arguments, and parses the arguments of MAIL,
// RCPT and BDAT into values or the reply that refuses them. Pure syntax: sequencing, limits and
// policy (size limits, relaying, which extensions were offered) belong to the session.
import { type Path, parsePath } from './address.js';
import { hasInvalidUtf8 } from './line-reader.js';
import { type Reply, replies } from './reply.js';

/** The verbs the server recognises (RFC 5321 4.1.1, RFC 3030, RFC 3207, RFC 4954). */
export type Verb =
  | 'HELO' | 'EHLO' | 'MAIL' | 'RCPT' | 'DATA' | 'BDAT' | 'RSET'
  | 'NOOP' | 'QUIT' | 'HELP' | 'VRFY' | 'EXPN' | 'STARTTLS' | 'AUTH';

/** One command line: a known verb with its arguments, or the raw line of an unknown one. */
export type Command = { verb: Verb; args: string } | { verb: 'UNKNOWN'; raw: string };

const VERBS: ReadonlySet<string> = new Set<Verb>([
  'HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET',
  'NOOP', 'QUIT', 'HELP', 'VRFY', 'EXPN', 'STARTTLS', 'AUTH',
]);

// A control character (C0, DEL, C1: \p{Cc}) other than TAB. No command of RFC 5321 4.1 or RFC 6531
// allows one; refused here, they reach neither the log nor the Received header (HELO). TAB is let
// through: Postfix's tokenizer takes it as white space, parseCommand drops it at the end of a
// line, and the HELO, MAIL and RCPT parsers refuse it inside a name, path or parameter.
const CONTROL = /[^\P{Cc}\t]/u;

/**
 * Checks a whole command line before it is parsed: the reply that refuses it, or undefined.
 * Bytes that are not UTF-8 get Postfix's `500 5.5.2 Error: bad UTF-8 syntax`; control
 * characters (a NUL, a bare CR, an escape...) get `500 5.5.2` too.
 */
export function checkCommandLine(line: string): Reply | undefined {
  if (hasInvalidUtf8(line)) return replies.badUtf8();
  if (CONTROL.test(line)) return replies.controlCharacter();
  return undefined;
}

/** Parses one command line (without its CRLF); the verb is case-insensitive (RFC 5321 2.4). */
export function parseCommand(line: string): Command {
  const space = line.indexOf(' ');
  const word = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  if (!VERBS.has(word)) return { verb: 'UNKNOWN', raw: line };
  // Arguments follow one or more spaces; trailing blanks are dropped, as Postfix does.
  const args = space < 0 ? '' : line.slice(space + 1).replace(/^ +/, '').replace(/[ \t]+$/, '');
  return { verb: word as Verb, args };
}

/** The MAIL FROM parameters we support: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), AUTH (RFC 4954). */
export interface MailParams {
  /** Declared message size in octets; values past 2^53 are clamped to Number.MAX_SAFE_INTEGER. */
  size?: number;
  body?: '7BIT' | '8BITMIME';
  smtputf8: boolean;
  /** The AUTH= value (xtext, or `<>`), kept as sent; only accepted when `authOffered`. */
  auth?: string;
}

/** Options of parseMailArgs. */
export interface MailArgsOptions {
  /** EHLO advertised SMTPUTF8; without it the SMTPUTF8 parameter is unknown. */
  smtputf8Offered: boolean;
  /** EHLO advertised AUTH, so MAIL may carry AUTH= (RFC 4954 5). @default false */
  authOffered?: boolean;
}

/** Options of parseRcptArgs. */
export interface RcptArgsOptions {
  smtputf8Offered: boolean;
  /** The transaction's MAIL carried SMTPUTF8, so non-ASCII recipients are allowed (RFC 6531 3.4). @default false */
  utf8Allowed?: boolean;
}

/** The parsed arguments of MAIL, or the reply that refuses them. */
export type MailArgs = { ok: true; reversePath: Path; params: MailParams } | { ok: false; reply: Reply };
/** The parsed arguments of RCPT, or the reply that refuses them. */
export type RcptArgs = { ok: true; forwardPath: Path } | { ok: false; reply: Reply };
/** The parsed arguments of BDAT, or the reply that refuses them. */
export type BdatArgs = { ok: true; size: number; last: boolean } | { ok: false; reply: Reply };

type Split = { path: string; params: string[] } | { reply: Reply };
type Param = { keyword: string; value: string | undefined };

/** Parses `FROM:<reverse-path> [params]` (RFC 5321 4.1.1.2), tolerating spaces after the colon. */
export function parseMailArgs(args: string, opts: MailArgsOptions): MailArgs {
  const split = splitPathArgs(args, 'FROM:');
  if ('reply' in split) return { ok: false, reply: split.reply };
  const params = parseMailParams(split.params, opts);
  if ('reply' in params) return { ok: false, reply: params.reply };
  const parsed = parsePath(split.path, 'reverse', { utf8Allowed: opts.smtputf8Offered && params.smtputf8 });
  if (parsed.ok) return { ok: true, reversePath: parsed.path, params };
  return { ok: false, reply: parsed.utf8 ? replies.utf8NeedsSmtputf8() : replies.badSenderAddress(parsed.reason) };
}

/** Parses `TO:<forward-path>` (RFC 5321 4.1.1.3); no RCPT parameters are supported (no DSN). */
export function parseRcptArgs(args: string, opts: RcptArgsOptions): RcptArgs {
  const split = splitPathArgs(args, 'TO:');
  if ('reply' in split) return { ok: false, reply: split.reply };
  const first = split.params[0];
  if (first !== undefined) {
    // NOTIFY and ORCPT (RFC 3461) are the usual ones; anything well-formed is unknown here.
    const param = parseParam(first);
    return { ok: false, reply: param ? replies.unknownParameter(param.keyword) : replies.syntax(`bad parameter "${first}"`) };
  }
  const parsed = parsePath(split.path, 'forward', { utf8Allowed: opts.smtputf8Offered && opts.utf8Allowed === true });
  if (parsed.ok) return { ok: true, forwardPath: parsed.path };
  return { ok: false, reply: parsed.utf8 ? replies.utf8NeedsSmtputf8() : replies.badAddress(parsed.reason) };
}

/** Parses `<size> [LAST]` (RFC 3030 2); sizes past 2^53 are refused. */
export function parseBdatArgs(args: string): BdatArgs {
  const match = /^(\d+)(?: +(LAST))?$/i.exec(args);
  const size = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(size)) return { ok: false, reply: replies.syntax('BDAT <size> [LAST]') };
  return { ok: true, size, last: match[2] !== undefined };
}

/** Splits `KEYWORD:<path> p1 p2` into the bracketed path and the parameter words. */
function splitPathArgs(args: string, keyword: 'FROM:' | 'TO:'): Split {
  if (args.slice(0, keyword.length).toUpperCase() !== keyword) {
    return { reply: replies.syntax(`expected ${keyword}<address>`) };
  }
  const rest = args.slice(keyword.length).replace(/^ +/, '');
  const end = pathEnd(rest);
  const path = rest.slice(0, end);
  const tail = rest.slice(end);
  if (tail !== '' && !tail.startsWith(' ')) return { reply: replies.syntax('expected a space after the address') };
  return { path, params: tail.split(' ').filter((word) => word !== '') };
}

/** Finds the end of `<...>`, skipping `>` inside a quoted local part; the whole text if unbracketed. */
function pathEnd(text: string): number {
  if (!text.startsWith('<')) return text.search(/ |$/);
  let isQuoted = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && isQuoted) i++;
    else if (c === '"') isQuoted = !isQuoted;
    else if (c === '>' && !isQuoted) return i + 1;
  }
  return text.length;
}

/** Parses `esmtp-keyword ["=" esmtp-value]` (RFC 5321 4.1.2, value widened to UTF-8 by RFC 6531). */
function parseParam(text: string): Param | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:=([\x21-\x3C\x3E-\x7E\u0080-\u{10FFFF}]+))?$/u.exec(text);
  if (!match) return undefined;
  return { keyword: (match[1] as string).toUpperCase(), value: match[2] };
}

/**
 * Parses the MAIL parameters, refusing unknown (555) and malformed (501) ones. A repeated
 * parameter is ignored when it agrees with the first (Python's smtplib sends SMTPUTF8 twice, and
 * Postfix takes such repeats) and refused with 501 5.5.4 when it does not.
 */
function parseMailParams(words: string[], opts: MailArgsOptions): MailParams | { reply: Reply } {
  const params: MailParams = { smtputf8: false };
  const seen = new Set<string>();
  for (const text of words) {
    const param = parseParam(text);
    if (!param) return { reply: replies.syntax(`bad parameter "${text}"`) };
    const read = readMailParam(param, opts);
    if ('code' in read) return { reply: read };
    if (seen.has(param.keyword) && params[read.field] !== read.value) return { reply: replies.conflictingParameter(param.keyword) };
    seen.add(param.keyword);
    Object.assign(params, { [read.field]: read.value });
  }
  return params;
}

/** One MAIL parameter as the MailParams field it sets and its value there. */
type MailParamValue = { [F in keyof MailParams]-?: { field: F; value: NonNullable<MailParams[F]> } }[keyof MailParams];

/** Reads one MAIL parameter into its field and value; returns the refusal when it is unknown or malformed. */
function readMailParam({ keyword, value }: Param, opts: MailArgsOptions): MailParamValue | Reply {
  switch (keyword) {
    case 'SIZE': // RFC 1870 3: size-value = 1*20DIGIT
      if (value === undefined || !/^\d{1,20}$/.test(value)) return replies.badParameterValue(keyword);
      return { field: 'size', value: Math.min(Number(value), Number.MAX_SAFE_INTEGER) };
    case 'BODY': {
      const body = value?.toUpperCase();
      if (body !== '7BIT' && body !== '8BITMIME') return replies.badParameterValue(keyword);
      return { field: 'body', value: body };
    }
    case 'SMTPUTF8': // RFC 6531 3.4: no value
      if (!opts.smtputf8Offered) return replies.unknownParameter(keyword);
      if (value !== undefined) return replies.badParameterValue(keyword);
      return { field: 'smtputf8', value: true };
    case 'AUTH':
      if (opts.authOffered !== true) return replies.unknownParameter(keyword);
      if (value === undefined) return replies.badParameterValue(keyword);
      return { field: 'auth', value };
    default: // includes RET, ENVID (RFC 3461): DSN is not advertised
      return replies.unknownParameter(keyword);
  }
}
