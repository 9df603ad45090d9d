// The pure part of sending one message over an open SMTP session: what the server offers (from
// its EHLO reply), the commands of one transaction (MAIL with SIZE, BODY and SMTPUTF8, one RCPT
// per recipient, DATA), and how the replies become one outcome per recipient. No sockets here.
import { type Reply, reply } from '../smtp/reply.js';

/** What a server offers, read from its EHLO reply (HELO means none of it). */
export interface ServerFeatures {
  readonly pipelining: boolean;
  /** The SIZE limit it announced, 0 for "no fixed limit", undefined if it has no SIZE. */
  readonly sizeLimit: number | undefined;
  readonly eightBitMime: boolean;
  readonly smtputf8: boolean;
  readonly startTls: boolean;
}

/** The message as the transaction needs it. */
export interface OutboundMessage {
  /** '' for the null sender. */
  readonly reversePath: string;
  readonly bodyType: '7bit' | '8bitmime' | 'smtputf8';
  readonly sizeBytes: number;
}

/** One recipient's outcome: the shape of the queue's DeliveryOutcome. */
export type RecipientOutcome =
  | { readonly kind: 'delivered'; readonly reply: Reply }
  | { readonly kind: 'transient'; readonly reply: Reply; readonly remoteMta?: string }
  | { readonly kind: 'permanent'; readonly reply: Reply; readonly remoteMta?: string };

export const NO_FEATURES: ServerFeatures = { pipelining: false, sizeLimit: undefined, eightBitMime: false, smtputf8: false, startTls: false };

/** Reads the keywords of an EHLO reply (RFC 5321 4.1.1.1: lines after the first). */
export function parseEhlo(ehlo: Reply): ServerFeatures {
  const keywords = new Map(ehlo.lines.slice(1).map((line) => {
    const [keyword = '', ...params] = line.trim().split(/\s+/);
    return [keyword.toUpperCase(), params] as const;
  }));
  const size = keywords.get('SIZE');
  return {
    pipelining: keywords.has('PIPELINING'),
    sizeLimit: size === undefined ? undefined : Number.parseInt(size[0] ?? '0', 10) || 0,
    eightBitMime: keywords.has('8BITMIME'),
    smtputf8: keywords.has('SMTPUTF8'),
    startTls: keywords.has('STARTTLS'),
  };
}

/** Why a message cannot go to this server at all, before anything is sent; undefined if it can. */
export function refusalBeforeSending(message: OutboundMessage, features: ServerFeatures): Reply | undefined {
  if (features.sizeLimit && message.sizeBytes > features.sizeLimit) {
    return reply(552, '5.3.4', `Message of ${message.sizeBytes} bytes exceeds the server's limit of ${features.sizeLimit} bytes`);
  }
  // RFC 6531 3.4: an internationalized message cannot be downgraded by us.
  if (message.bodyType === 'smtputf8' && !features.smtputf8) return reply(553, '5.6.7', 'The receiving server does not support SMTPUTF8');
  return undefined;
}

/** The MAIL command with the parameters this server understands. */
export function mailCommand(message: OutboundMessage, features: ServerFeatures): string {
  const params: string[] = [];
  if (features.sizeLimit !== undefined) params.push(`SIZE=${message.sizeBytes}`);
  if (features.eightBitMime && message.bodyType !== '7bit') params.push('BODY=8BITMIME');
  if (message.bodyType === 'smtputf8' && features.smtputf8) params.push('SMTPUTF8');
  return [`MAIL FROM:<${message.reversePath}>`, ...params].join(' ');
}

/** Turns a reply into the outcome it means for a recipient. */
export function outcomeOf(r: Reply): RecipientOutcome {
  if (r.code >= 200 && r.code < 300) return { kind: 'delivered', reply: r };
  return r.code >= 500 ? { kind: 'permanent', reply: r } : { kind: 'transient', reply: r };
}

/** Every recipient gets the same outcome (a MAIL, DATA or final-dot reply, or a broken session). */
export function sameForAll(count: number, outcome: RecipientOutcome): RecipientOutcome[] {
  return Array.from({ length: count }, () => outcome);
}
