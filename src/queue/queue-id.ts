// Queue ids and the file names built from them. An id is 16 characters of Crockford base32
// (upper case, no I L O U): random, filename-safe, fixed length. Names on disk add a lower-case
// prefix that cannot occur in an id, so a live name can never be mistaken for a temp name.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ID_LENGTH = 16;
const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{16}$/;

/** The prefix of a live message directory in a state folder: `m.<ID>`. */
export const LIVE_PREFIX = 'm.';
/** The prefix of a message directory still being written, in tmp/: `t.<ID>`. */
export const TEMP_PREFIX = 't.';
/** The message data inside a message directory (CRLF line ends, as received). */
export const DATA_FILE = 'data';
/** The envelope inside a message directory (JSON, see envelope.ts). */
export const ENVELOPE_FILE = 'envelope';
/** The prefix of an envelope being rewritten, renamed over `envelope` once fsync'd. */
export const ENVELOPE_TEMP_PREFIX = 't.envelope.';

/** Random bytes drawn 4 KiB at a time: one call to the CSPRNG per 256 ids, not one per id. */
let pool = Buffer.alloc(0);
let used = 0;

/** Returns a new random queue id (80 bits). */
export function newQueueId(): string {
  if (used + ID_LENGTH > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  let id = '';
  for (let i = used; i < used + ID_LENGTH; i++) id += ALPHABET[(pool[i] as number) & 31];
  used += ID_LENGTH;
  return id;
}

/** Tells whether a string is a well-formed queue id. */
export function isQueueId(s: string): boolean {
  return ID_PATTERN.test(s);
}

/** Returns the name of the live directory of a message. */
export function liveName(id: string): string {
  return LIVE_PREFIX + id;
}

/** Returns the name of the temp directory of a message being received. */
export function tempName(id: string): string {
  return TEMP_PREFIX + id;
}

/**
 * Returns the name of the spool directory of a message being received by process `pid`: the pid
 * lets the supervisor remove what a dead worker left half-received.
 */
export function spoolName(id: string, pid: number): string {
  return `${TEMP_PREFIX}${id}.${pid}`;
}

/** Tells whether a name in tmp/ is the spool of a message being received by process `pid`. */
export function isSpoolOf(name: string, pid: number): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(`.${pid}`) && isQueueId(name.slice(TEMP_PREFIX.length, -`.${pid}`.length));
}

/** Returns the queue id encoded in a live directory name, or undefined for any other name. */
export function idFromLiveName(name: string): string | undefined {
  if (!name.startsWith(LIVE_PREFIX)) return undefined;
  const id = name.slice(LIVE_PREFIX.length);
  return isQueueId(id) ? id : undefined;
}
