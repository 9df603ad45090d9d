// Delivery status notifications (RFC 3464): the bounce a sender gets for recipients that failed,
// as a multipart/report with a human-readable part, a message/delivery-status part and the
// original headers (text/rfc822-headers). Pure: the caller reads the headers and queues the text.
import type { QueueEnvelope, QueueRecipient } from './envelope.js';

type Failed = Extract<QueueRecipient, { status: 'failed' }>;

/** What a bounce needs to know besides the envelope. */
export interface BounceContext {
  /** Our host name: Reporting-MTA, the From address and the Message-ID. */
  readonly hostname: string;
  /** The original message's header section, CRLF line ends, without the empty line. */
  readonly originalHeaders: string;
  readonly now: Date;
  /** A unique token for the MIME boundary and the Message-ID. */
  readonly token: string;
}

/** Returns the failed recipients of an envelope that a bounce must report: those not reported yet. */
export function failedRecipients(envelope: QueueEnvelope): Failed[] {
  return envelope.recipients.filter((r): r is Failed => r.status === 'failed' && r.bouncedAt === undefined);
}

/** Builds the bounce for the failed recipients of `envelope`, as message text with CRLF line ends. */
export function buildBounce(envelope: QueueEnvelope, failed: readonly Failed[], ctx: BounceContext): string {
  const boundary = `${ctx.token}/${ctx.hostname}`;
  const header = [
    `From: Mail Delivery System <MAILER-DAEMON@${ctx.hostname}>`,
    `To: <${envelope.reversePath}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${ctx.now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${ctx.token}.bounce@${ctx.hostname}>`,
    // RFC 3834 5: an automatic reply, so that no one answers it automatically in turn.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const notice = [
    `This is the mail system at host ${ctx.hostname}.`,
    '',
    'Your message could not be delivered to one or more recipients.',
    'The reasons given by the receiving systems are below.',
    '',
    ...failed.map((r) => `<${r.address}>: ${replyText(r)}`),
  ];
  const perMessage = [`Reporting-MTA: dns; ${ctx.hostname}`, `X-Mta-Queue-ID: ${envelope.queueId}`, `Arrival-Date: ${new Date(envelope.arrivedAt).toUTCString().replace('GMT', '+0000')}`];
  const perRecipient = failed.flatMap((r) => [
    '',
    // RFC 3464 2.3.1: the address as the sender gave it, when an alias turned it into another.
    ...(r.originalRecipient === undefined ? [] : [`Original-Recipient: rfc822; ${r.originalRecipient}`]),
    `Final-Recipient: rfc822; ${r.address}`,
    'Action: failed',
    `Status: ${statusOf(r)}`,
    ...(r.remoteMta === undefined ? [] : [`Remote-MTA: dns; ${r.remoteMta}`]),
    `Diagnostic-Code: smtp; ${replyText(r)}`,
  ]);
  const parts = [
    [...header, '', 'This is a MIME-encapsulated message.', ''],
    [`--${boundary}`, 'Content-Description: Notification', 'Content-Type: text/plain; charset=utf-8', '', ...notice, ''],
    [`--${boundary}`, 'Content-Description: Delivery report', 'Content-Type: message/delivery-status', '', ...perMessage, ...perRecipient, ''],
    [`--${boundary}`, 'Content-Description: Undelivered Message Headers', 'Content-Type: text/rfc822-headers', '', ctx.originalHeaders, ''],
    [`--${boundary}--`],
  ];
  return `${parts.flat().join('\r\n')}\r\n`;
}

/** The enhanced status code of a failure (RFC 3463), from its reply's class when it has none. */
function statusOf(r: Failed): string {
  return r.lastReply.enhancedCode ?? `${String(r.lastReply.code)[0] ?? '5'}.0.0`;
}

function replyText(r: Failed): string {
  const text = r.lastReply.lines.join(' ').replace(/[\r\n]+/g, ' ');
  return [String(r.lastReply.code), r.lastReply.enhancedCode, text].filter((s) => s !== undefined && s !== '').join(' ');
}
