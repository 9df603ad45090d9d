// The envelope record of a queued message: sender, recipients with their own status, arrival,
// attempts and client. Stored as JSON with `version: 1` and validated field by field on load;
// a record that fails validation is reported, never trusted (see store.ts for moving it aside).
import type { Reply } from '../smtp/reply.js';
import { isQueueId } from './queue-id.js';

/** The envelope format written by this code. */
export const ENVELOPE_VERSION = 1;

export type BodyType = '7bit' | '8bitmime' | 'smtputf8';

/** One recipient and where its delivery stands. Times are ISO 8601 strings. */
export type QueueRecipient =
  | { readonly address: string; readonly status: 'pending' }
  | { readonly address: string; readonly status: 'delivered'; readonly deliveredAt: string }
  | { readonly address: string; readonly status: 'deferred'; readonly lastReply: Reply; readonly nextAttemptAt: string }
  | { readonly address: string; readonly status: 'failed'; readonly lastReply: Reply };

export type RecipientStatus = QueueRecipient['status'];

/** The versioned envelope record of one queued message. */
export interface QueueEnvelope {
  readonly version: typeof ENVELOPE_VERSION;
  readonly queueId: string;
  /** The reverse-path without brackets; '' for the null sender. */
  readonly reversePath: string;
  readonly recipients: readonly QueueRecipient[];
  readonly arrivedAt: string;
  /** Delivery attempts made by the queue runner (commit-time local delivery counts as one). */
  readonly attempts: number;
  readonly client: { readonly address: string; readonly helo: string; readonly ptr: string | null };
  readonly bodyType: BodyType;
  /** Size of the data file in bytes. */
  readonly size: number;
}

/** The outcome of parsing an envelope file. */
export type ParsedEnvelope = { readonly ok: true; readonly envelope: QueueEnvelope } | { readonly ok: false; readonly problem: string };

/** Serialises an envelope as the JSON text stored on disk. */
export function serializeEnvelope(envelope: QueueEnvelope): string {
  return JSON.stringify(envelope, null, 2) + '\n';
}

/** Parses and validates envelope text; reports the first problem found. */
export function parseEnvelope(text: string): ParsedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `Cannot parse JSON: ${(err as Error).message}` };
  }
  try {
    return { ok: true, envelope: toEnvelope(value) };
  } catch (err) {
    if (err instanceof EnvelopeError) return { ok: false, problem: err.message };
    throw err;
  }
}

class EnvelopeError extends Error {}

function fail(field: string, why: string): never {
  throw new EnvelopeError(`Invalid envelope field "${field}": ${why}`);
}

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'not an object');
  return v as Obj;
}

function str(o: Obj, key: string, field = key): string {
  const v = o[key];
  if (typeof v !== 'string') fail(field, 'not a string');
  return v;
}

function time(o: Obj, key: string, field = key): string {
  const v = str(o, key, field);
  if (Number.isNaN(Date.parse(v))) fail(field, `not a time: "${v}"`);
  return v;
}

function count(o: Obj, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(key, 'not a non-negative integer');
  return v;
}

function toEnvelope(value: unknown): QueueEnvelope {
  const o = obj(value, '(record)');
  if (o.version !== ENVELOPE_VERSION) fail('version', `unsupported version ${JSON.stringify(o.version)}`);
  const bodyType = o.bodyType;
  if (bodyType !== '7bit' && bodyType !== '8bitmime' && bodyType !== 'smtputf8') fail('bodyType', 'unknown body type');
  if (!Array.isArray(o.recipients) || o.recipients.length === 0) fail('recipients', 'not a non-empty array');
  const client = obj(o.client, 'client');
  const ptr = client.ptr;
  if (!isQueueId(str(o, 'queueId'))) fail('queueId', 'not a queue id');
  if (ptr !== null && typeof ptr !== 'string') fail('client.ptr', 'not a string or null');
  return {
    version: ENVELOPE_VERSION,
    queueId: str(o, 'queueId'),
    reversePath: str(o, 'reversePath'),
    recipients: o.recipients.map((r, i) => toRecipient(r, `recipients[${i}]`)),
    arrivedAt: time(o, 'arrivedAt'),
    attempts: count(o, 'attempts'),
    client: { address: str(client, 'address', 'client.address'), helo: str(client, 'helo', 'client.helo'), ptr },
    bodyType,
    size: count(o, 'size'),
  };
}

function toRecipient(value: unknown, field: string): QueueRecipient {
  const o = obj(value, field);
  const address = str(o, 'address', `${field}.address`);
  switch (o.status) {
    case 'pending':
      return { address, status: 'pending' };
    case 'delivered':
      return { address, status: 'delivered', deliveredAt: time(o, 'deliveredAt', `${field}.deliveredAt`) };
    case 'deferred':
      return {
        address,
        status: 'deferred',
        lastReply: toReply(o.lastReply, `${field}.lastReply`),
        nextAttemptAt: time(o, 'nextAttemptAt', `${field}.nextAttemptAt`),
      };
    case 'failed':
      return { address, status: 'failed', lastReply: toReply(o.lastReply, `${field}.lastReply`) };
    default:
      return fail(`${field}.status`, `unknown status ${JSON.stringify(o.status)}`);
  }
}

function toReply(value: unknown, field: string): Reply {
  const o = obj(value, field);
  const code = o.code;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 200 || code > 599) fail(`${field}.code`, 'not a reply code');
  const lines = o.lines;
  if (!Array.isArray(lines) || !lines.every((l): l is string => typeof l === 'string')) {
    fail(`${field}.lines`, 'not an array of strings');
  }
  const enhancedCode = o.enhancedCode;
  if (enhancedCode !== undefined && typeof enhancedCode !== 'string') fail(`${field}.enhancedCode`, 'not a string');
  return enhancedCode === undefined ? { code, lines } : { code, enhancedCode, lines };
}
