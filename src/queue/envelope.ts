// The envelope record of a queued message: sender, recipients with their own status, arrival,
// attempts and client. Stored as JSON with `version: 1` and validated field by field on load
// (valibot); a record that fails is reported with the field named, never trusted (recovery moves
// it aside).
import * as v from 'valibot';
import type { Reply } from '../smtp/reply.js';
import { isQueueId } from './queue-id.js';

/** The envelope format written by this code. */
export const ENVELOPE_VERSION = 1;

export type BodyType = '7bit' | '8bitmime' | 'smtputf8';

/** Who a recipient is: the address delivered to, and the one the client gave when an alias led there. */
export interface RecipientAddress {
  readonly address: string;
  /**
   * The forward-path given at RCPT when it differs from `address` (an alias expanded, postmaster
   * completed), for DSNs (RFC 3461 ORCPT) and logs. Optional, so version 1 stands.
   */
  readonly originalRecipient?: string;
}

/**
 * One recipient and where its delivery stands. Times are ISO 8601 strings. `maildirFile` is the
 * file a local delivery in progress is about to publish: if it exists after a crash, the
 * recipient was delivered. `remoteMta` names the mail host that gave `lastReply`, for DSNs.
 */
export type QueueRecipient = RecipientAddress &
  (
    | { readonly status: 'pending'; readonly maildirFile?: string }
    | { readonly status: 'delivered'; readonly deliveredAt: string }
    | { readonly status: 'deferred'; readonly lastReply: Reply; readonly nextAttemptAt: string; readonly maildirFile?: string; readonly remoteMta?: string }
    | { readonly status: 'failed'; readonly lastReply: Reply; readonly bouncedAt?: string; readonly remoteMta?: string }
  );

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

const time = v.pipe(
  v.string('not a string'),
  v.check((s) => !Number.isNaN(Date.parse(s)), (issue) => `not a time: ${JSON.stringify(issue.input)}`),
);
const count = v.pipe(v.number('not a non-negative integer'), v.safeInteger('not a non-negative integer'), v.minValue(0, 'not a non-negative integer'));
const text = v.string('not a string');

const replySchema = v.object(
  {
    code: v.pipe(v.number('not a reply code'), v.integer('not a reply code'), v.minValue(200, 'not a reply code'), v.maxValue(599, 'not a reply code')),
    enhancedCode: v.optional(text),
    lines: v.array(text, 'not an array of strings'),
  },
  'not an object',
);

const who = { address: text, originalRecipient: v.optional(text) };

const recipientSchema = v.variant(
  'status',
  [
    v.object({ ...who, status: v.literal('pending'), maildirFile: v.optional(text) }),
    v.object({ ...who, status: v.literal('delivered'), deliveredAt: time }),
    v.object({ ...who, status: v.literal('deferred'), lastReply: replySchema, nextAttemptAt: time, maildirFile: v.optional(text), remoteMta: v.optional(text) }),
    v.object({ ...who, status: v.literal('failed'), lastReply: replySchema, bouncedAt: v.optional(time), remoteMta: v.optional(text) }),
  ],
  (issue) => `unknown status ${JSON.stringify(issue.input)}`,
);

const envelopeSchema = v.object(
  {
    version: v.literal(ENVELOPE_VERSION, (issue) => `unsupported version ${JSON.stringify(issue.input)}`),
    queueId: v.pipe(text, v.check(isQueueId, 'not a queue id')),
    reversePath: text,
    recipients: v.pipe(v.array(recipientSchema, 'not a non-empty array'), v.nonEmpty('not a non-empty array')),
    arrivedAt: time,
    attempts: count,
    client: v.object({ address: text, helo: text, ptr: v.nullable(v.string('not a string or null')) }, 'not an object'),
    bodyType: v.picklist(['7bit', '8bitmime', 'smtputf8'], 'unknown body type'),
    size: count,
  },
  'not an object',
);

/** Parses and validates envelope text; reports the first problem found, naming its field. */
export function parseEnvelope(json: string): ParsedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { ok: false, problem: `Cannot parse JSON: ${(err as Error).message}` };
  }
  const parsed = v.safeParse(envelopeSchema, value, { abortEarly: true });
  if (parsed.success) return { ok: true, envelope: parsed.output };
  const issue = parsed.issues[0];
  return { ok: false, problem: `Invalid envelope field "${fieldName(issue.path)}": ${issue.message}` };
}

/** Writes an issue's path as `recipients[0].lastReply.code`. */
function fieldName(path: readonly { key: unknown }[] | undefined): string {
  if (!path || path.length === 0) return '(record)';
  return path.map((p, i) => (typeof p.key === 'number' ? `[${p.key}]` : `${i === 0 ? '' : '.'}${String(p.key)}`)).join('');
}
