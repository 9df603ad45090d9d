// Turns what sendmail was given (its request and the message read on stdin) into an envelope and
// the data to queue: recipients from the command line and, with -t, from To/Cc/Bcc; unqualified
// addresses completed with the host name; Bcc removed; Date, Message-ID and From added when
// missing; LF line ends made CRLF, as the queue stores them. Pure: sendmail runs it to report
// mistakes at once, the daemon again to decide (it alone knows who really submitted the file).
import { parsePath } from '../smtp/address.js';
import type { BodyType } from './envelope.js';
import type { DropRequest } from './maildrop-file.js';
import { addressesIn, fieldValues, hasField, splitMessage, withoutField } from './message-headers.js';

/** What the daemon (or sendmail, for its own check) knows beyond the request. */
export interface SubmissionFacts {
  /** Login name of the submitting user. */
  readonly userName: string;
  /** Whether the user may choose the envelope sender with -f (root and the service user). */
  readonly isTrusted: boolean;
  readonly hostname: string;
  /** RFC 5322 date-time of the submission, for a missing Date field. */
  readonly date: string;
  /** `<id@host>` for a missing Message-ID field. */
  readonly messageId: string;
  readonly maxMessageBytes: number;
}

/** A message ready for the intake, or why it is refused (`usage`: the command line; `data`: the message). */
export type Submission =
  | {
      readonly ok: true;
      readonly reversePath: string;
      readonly recipients: readonly string[];
      readonly bodyType: BodyType;
      /** Header and body with CRLF line ends. */
      readonly data: Buffer;
      /** Whether a -f was given but not honoured (the user is not trusted). */
      readonly isSenderIgnored: boolean;
    }
  | { readonly ok: false; readonly kind: 'usage' | 'data'; readonly problem: string };

const CRLF = '\r\n';
const NON_ASCII = /[\u0080-\u{10FFFF}]/u;

/** Prepares a submission; see the file comment for what it adds and removes. */
export function prepareSubmission(request: DropRequest, message: Buffer, facts: SubmissionFacts): Submission {
  const { headers, body } = splitMessage(toLines(message));
  const extracted = request.extractRecipients ? fieldValues(headers, ['To', 'Cc', 'Bcc']).flatMap(addressesIn).map(fromLatin1) : [];
  const recipients = qualifyAll([...request.recipients, ...extracted], facts.hostname);
  if (typeof recipients === 'string') return { ok: false, kind: 'data', problem: recipients };
  if (recipients.length === 0) {
    const problem = request.extractRecipients ? 'no recipient addresses found in the message header' : 'no recipients given';
    return { ok: false, kind: request.extractRecipients ? 'data' : 'usage', problem };
  }
  const sender = senderOf(request, facts);
  if (!sender.ok) return sender;
  const fields = withoutField(headers, 'Bcc').flatMap((h) => h.lines);
  if (!hasField(headers, 'From')) fields.push(`From: ${phrase(request.fullName)}<${sender.fromAddress}>`);
  if (!hasField(headers, 'Date')) fields.push(`Date: ${facts.date}`);
  if (!hasField(headers, 'Message-ID')) fields.push(`Message-ID: ${facts.messageId}`);
  const data = Buffer.from([...fields, '', ...body].join(CRLF) + CRLF, 'latin1');
  if (data.length > facts.maxMessageBytes) return { ok: false, kind: 'data', problem: `message is larger than ${facts.maxMessageBytes} bytes` };
  const isUtf8 = [sender.reversePath, ...recipients].some((a) => NON_ASCII.test(a));
  const bodyType: BodyType = isUtf8 ? 'smtputf8' : data.some((b) => b > 0x7f) ? '8bitmime' : '7bit';
  return { ok: true, reversePath: sender.reversePath, recipients, bodyType, data, isSenderIgnored: sender.isIgnored };
}

/** Splits the bytes into lines (latin1, every byte kept), without their LF or CRLF. */
function toLines(message: Buffer): string[] {
  const lines = message.toString('latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

const fromLatin1 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');

/** Completes `user` as `user@hostname` and checks every address; returns the problem as a string. */
function qualifyAll(addresses: readonly string[], hostname: string): string[] | string {
  const out: string[] = [];
  for (const raw of addresses) {
    const address = qualify(raw, hostname, 'forward');
    if (address === undefined) return `invalid recipient address "${raw}"`;
    if (!out.includes(address)) out.push(address);
  }
  return out;
}

function qualify(raw: string, hostname: string, kind: 'forward' | 'reverse'): string | undefined {
  const bare = raw.trim().replace(/^<(.*)>$/, '$1');
  const full = bare.includes('@') ? bare : `${bare}@${hostname}`;
  const parsed = parsePath(`<${full}>`, kind, { utf8Allowed: true });
  return parsed.ok ? parsed.path.address : undefined;
}

type Sender = { ok: true; reversePath: string; fromAddress: string; isIgnored: boolean } | { ok: false; kind: 'data'; problem: string };

/** The envelope sender: the user's own address, or -f's for a trusted user (`-f ""` or `-f "<>"` is the null sender). */
function senderOf(request: DropRequest, facts: SubmissionFacts): Sender {
  const own = `${facts.userName}@${facts.hostname}`;
  if (request.sender === null || !facts.isTrusted) return { ok: true, reversePath: own, fromAddress: own, isIgnored: request.sender !== null };
  if (request.sender === '' || request.sender === '<>') return { ok: true, reversePath: '', fromAddress: own, isIgnored: false };
  const address = qualify(request.sender, facts.hostname, 'reverse');
  if (address === undefined) return { ok: false, kind: 'data', problem: `invalid sender address "${request.sender}"` };
  return { ok: true, reversePath: address, fromAddress: address, isIgnored: false };
}

/** The display name and a space for a From field; RFC 2047 encoded when not ASCII, quoted when it has specials. */
function phrase(fullName: string | null): string {
  const name = fullName?.replace(/[\r\n]+/g, ' ').trim();
  if (!name) return '';
  if (NON_ASCII.test(name)) return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?= `;
  // RFC 5322 3.2.3: an atom cannot hold specials; a quoted string can.
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return `${name} `;
  return `"${name.replace(/(["\\])/g, '\\$1')}" `;
}
