// The file sendmail leaves in <queue_root>/maildrop for the daemon: one line naming the format,
// one line of JSON with what the command line asked for, then the message exactly as read.
// Nothing in it is trusted for who sent it: the daemon takes the submitter from the file's owner.
import { randomBytes } from 'node:crypto';
import * as v from 'valibot';

/** The folder of the queue root that sendmail writes into (mode 1733). */
export const MAILDROP_FOLDER = 'maildrop';
/** Prefix of a complete drop file, picked up by the daemon. */
export const DROP_PREFIX = 'd.';
/** Prefix of a drop file being written; renamed to DROP_PREFIX once complete. */
export const DROP_TEMP_PREFIX = 't.';
/** Mode of the maildrop folder: anyone may create files, only the owner lists or removes others'. */
export const MAILDROP_DIR_MODE = 0o1733;

const MAGIC = 'MTA-MAILDROP 1\n';

/** What the sendmail command line asked for. */
export interface DropRequest {
  /** `-f`: the envelope sender asked for; honoured for trusted users only. */
  readonly sender: string | null;
  /** `-F`: the full name for a From header that sendmail adds. */
  readonly fullName: string | null;
  /** The recipients named on the command line, as typed. */
  readonly recipients: readonly string[];
  /** `-t`: also take recipients from To, Cc and Bcc. */
  readonly extractRecipients: boolean;
}

/** A parsed drop file, or why it cannot be used. */
export type ParsedDrop = { readonly ok: true; readonly request: DropRequest; readonly message: Buffer } | { readonly ok: false; readonly problem: string };

const text = v.string('not a string');
const requestSchema = v.strictObject({
  sender: v.nullable(text),
  fullName: v.nullable(text),
  recipients: v.array(text, 'not an array of strings'),
  extractRecipients: v.boolean('not a boolean'),
});

/** Returns a fresh file name; the random part makes it unguessable to other local users. */
export function newDropName(prefix: string = DROP_PREFIX): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

/** Tells whether a maildrop entry is a complete drop file by its name. */
export function isDropName(name: string): boolean {
  return /^d\.[0-9a-f]{32}$/.test(name);
}

/** Tells whether a maildrop entry is a drop file still being written. */
export function isDropTempName(name: string): boolean {
  return /^t\.[0-9a-f]{32}$/.test(name);
}

/** Serialises a request and the message into the bytes of a drop file. */
export function serializeDrop(request: DropRequest, message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(request)}\n`, 'utf8'), message]);
}

/** Parses the bytes of a drop file. */
export function parseDrop(bytes: Buffer): ParsedDrop {
  if (!bytes.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) return { ok: false, problem: 'not a maildrop file' };
  const end = bytes.indexOf(0x0a, MAGIC.length);
  if (end < 0) return { ok: false, problem: 'no request line' };
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(MAGIC.length, end).toString('utf8'));
  } catch {
    return { ok: false, problem: 'request line is not JSON' };
  }
  const result = v.safeParse(requestSchema, json);
  if (!result.success) {
    const issue = result.issues[0];
    return { ok: false, problem: `request ${v.getDotPath(issue) ?? ''}: ${issue.message}` };
  }
  return { ok: true, request: result.output, message: bytes.subarray(end + 1) };
}
