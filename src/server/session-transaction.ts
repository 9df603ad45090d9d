// The mail transaction verbs of the session (MAIL, RCPT, DATA, BDAT) and the completions the
// listener feeds back for them. Each verb is a check (state and arguments → a refusal or nothing)
// followed by an apply (the next state), as OpenSMTPD's smtp_check_* / smtp_proceed_* pairs.
// A check's refusal says whether it is the client's mistake (counted toward max_errors) or our
// policy (relaying, unknown users, size and recipient limits), which is not the client's error.
import { parseBdatArgs, parseMailArgs, parseRcptArgs, type Verb } from '../smtp/command-line.js';
import { type Reply, replies } from '../smtp/reply.js';
import type { BodyType, IncomingEnvelope } from './message-sink.js';
import { checkSender, isAuthOffered, mayRelay, protocolSuffix } from './session-auth.js';
import type { Awaiting, DataOutcome, SessionAction, SessionEvent, SessionState, Transaction, VerbHandler, VerbResult } from './session-types.js';


/**
 * RCPTs past maxRecipients that a transaction may send before each further 452 counts as an
 * error: RFC 5321 4.5.3.1.10 has the client go on with DATA after a 452, so an overshoot is no
 * mistake, and Postfix's smtpd_recipient_overshoot_limit is 1000 too.
 */
export const RECIPIENT_OVERSHOOT_LIMIT = 1000;

/** A check's refusal, and whether it counts toward max_errors. */
interface Refusal {
  readonly refusal: Reply;
  readonly isError: boolean;
}

const say = (r: Reply, isError = false): VerbResult => ({ replies: [r], isError });
const refuse = (r: Reply): VerbResult => say(r, true);
/** The client got the protocol wrong: counted. */
const mistake = (refusal: Reply): Refusal => ({ refusal, isError: true });
/** Our policy refuses something well-formed: not counted. */
const policy = (refusal: Reply): Refusal => ({ refusal, isError: false });

function needHelo(s: SessionState): Reply | undefined {
  return s.phase === 'ready' ? undefined : replies.badSequence('send HELO/EHLO first');
}

function checkMail(s: SessionState, args: string): Refusal | { reversePath: string; bodyType: BodyType } {
  const sequence = needHelo(s) ?? (s.transaction ? replies.badSequence('nested MAIL command') : undefined);
  if (sequence) return mistake(sequence);
  const parsed = parseMailArgs(args, { smtputf8Offered: s.isExtended, authOffered: s.isExtended && isAuthOffered(s) });
  if (!parsed.ok) return mistake(parsed.reply);
  const senderRefusal = checkSender(s, parsed.reversePath.address);
  if (senderRefusal) return policy(senderRefusal);
  const { params } = parsed;
  if (!s.isExtended && (params.size !== undefined || params.body !== undefined || params.smtputf8)) {
    return mistake(replies.unknownParameter('ESMTP parameters need EHLO'));
  }
  if (params.size !== undefined && params.size > s.options.maxMessageBytes) {
    return policy(replies.sizeDeclaredTooBig(s.options.maxMessageBytes));
  }
  const bodyType: BodyType = params.smtputf8 ? 'smtputf8' : params.body === '8BITMIME' ? '8bitmime' : '7bit';
  return { reversePath: parsed.reversePath.address, bodyType };
}

const MAIL: VerbHandler = (s, args) => {
  const checked = checkMail(s, args);
  if ('refusal' in checked) return say(checked.refusal, checked.isError);
  if (!s.options.countsMessages) return startTransaction(s, checked);
  // As Postfix's smtpd_client_message_rate_limit, every well-formed MAIL counts, accepted or not.
  s.pendingSender = checked;
  return wait(s, 'message-count', { kind: 'count-message' });
};

function startTransaction(s: SessionState, sender: { reversePath: string; bodyType: BodyType }): VerbResult {
  s.transaction = { ...sender, recipients: [], overshoot: 0, chunking: undefined };
  return say(replies.senderOk());
}

function onMessageCounted(s: SessionState, refusal: Reply | undefined): VerbResult {
  const sender = s.pendingSender;
  s.pendingSender = undefined;
  // Over the rate is policy (450 4.7.1), not the client's mistake.
  if (refusal || !sender) return say(refusal ?? replies.localError());
  return startTransaction(s, sender);
}

function checkRcpt(s: SessionState, args: string): Refusal | 'overshoot' | { address: string } {
  const tx = s.transaction;
  if (needHelo(s) || !tx) return mistake(needHelo(s) ?? replies.badSequence('need MAIL command'));
  if (tx.chunking) return mistake(replies.badSequence('RCPT after BDAT'));
  const parsed = parseRcptArgs(args, { smtputf8Offered: s.isExtended, utf8Allowed: tx.bodyType === 'smtputf8' });
  if (!parsed.ok) return mistake(parsed.reply);
  if (tx.recipients.length >= s.options.maxRecipients) return 'overshoot';
  const { forwardPath } = parsed;
  const isLocal = s.options.isLocal(forwardPath.address);
  // RFC 5321 4.5.1: postmaster of a local domain stays reachable whatever policy refuses the
  // client or the recipient; every policy check goes below this line.
  if (isLocal && forwardPath.isPostmaster) return { address: forwardPath.address };
  if (s.client.refusal) return policy(s.client.refusal);
  if (!mayRelay(s) && !isLocal) return policy(replies.relayDenied());
  return { address: forwardPath.address };
}

const RCPT: VerbHandler = (s, args) => {
  const checked = checkRcpt(s, args);
  const tx = s.transaction as Transaction;
  if (checked === 'overshoot') {
    tx.overshoot += 1;
    return say(replies.tooManyRecipients(s.options.maxRecipients), tx.overshoot > RECIPIENT_OVERSHOOT_LIMIT);
  }
  if ('refusal' in checked) return say(checked.refusal, checked.isError);
  tx.pendingRecipient = checked.address;
  return wait(s, 'recipient-check', { kind: 'check-recipient', forwardPath: checked.address });
};

function wait(s: SessionState, awaiting: Awaiting, action: SessionAction): VerbResult {
  s.awaiting = awaiting;
  return { replies: [], actions: [action] };
}

function envelopeOf(s: SessionState, tx: Transaction): IncomingEnvelope {
  return {
    reversePath: tx.reversePath,
    recipients: [...tx.recipients],
    bodyType: tx.bodyType,
    client: { address: s.client.address, helo: s.helo, ptr: s.client.ptr },
  };
}

/** The WITH protocol of the Received header (RFC 3848, RFC 6531 §3.7.3): ESMTP, ESMTPS, ESMTPSA, UTF8SMTPS... */
function protocolOf(s: SessionState, tx: Transaction): string {
  if (tx.bodyType === 'smtputf8') return `UTF8SMTP${protocolSuffix(s)}`;
  return s.isExtended ? `ESMTP${protocolSuffix(s)}` : 'SMTP';
}

function checkMessageStart(s: SessionState): Reply | Transaction {
  const tx = s.transaction;
  if (needHelo(s) || !tx) return replies.badSequence('need MAIL command');
  if (tx.recipients.length === 0) return replies.badSequence('need RCPT command');
  return tx;
}

const DATA: VerbHandler = (s, args) => {
  if (args.trim() !== '') return refuse(replies.syntax('DATA takes no arguments'));
  const checked = checkMessageStart(s);
  if ('code' in checked) return refuse(checked);
  if (checked.chunking) return refuse(replies.badSequence('DATA after BDAT'));
  return wait(s, 'message-open', { kind: 'open-message', envelope: envelopeOf(s, checked), protocol: protocolOf(s, checked) });
};

/** A refused BDAT still carries its chunk: read and drop it, then answer (RFC 3030 §3). */
function discardChunk(s: SessionState, bytes: number, { refusal, isError }: Refusal): VerbResult {
  if (s.transaction) s.transaction.pendingReply = refusal;
  else s.transaction = { reversePath: '', bodyType: '7bit', recipients: [], overshoot: 0, chunking: undefined, pendingReply: refusal, isStray: true };
  return { ...wait(s, 'chunk', { kind: 'receive-chunk', bytes, last: false, discard: true }), isError };
}

const BDAT: VerbHandler = (s, args) => {
  const parsed = parseBdatArgs(args);
  if (!parsed.ok) return refuse(parsed.reply);
  const checked = checkMessageStart(s);
  if ('code' in checked) return discardChunk(s, parsed.size, mistake(checked));
  const chunk = { bytes: parsed.size, last: parsed.last };
  if (!checked.chunking) {
    checked.chunking = { isOpen: false, bytes: 0 };
    checked.pendingChunk = chunk;
    return wait(s, 'message-open', { kind: 'open-message', envelope: envelopeOf(s, checked), protocol: protocolOf(s, checked) });
  }
  return receiveChunk(s, chunk);
};

function receiveChunk(s: SessionState, chunk: { bytes: number; last: boolean }): VerbResult {
  return wait(s, 'chunk', { kind: 'receive-chunk', bytes: chunk.bytes, last: chunk.last, discard: false });
}

export const transactionVerbs: Partial<Record<Verb, VerbHandler>> = { MAIL, RCPT, DATA, BDAT };

export type CompletionEvent = Extract<
  SessionEvent,
  { type: 'message-counted' | 'recipient-checked' | 'message-opened' | 'message-open-failed' | 'chunk-received' | 'data-finished' }
>;

function outcomeReply(s: SessionState, outcome: DataOutcome): VerbResult {
  switch (outcome.kind) {
    case 'stored':
      // As Postfix, a stored message forgives the client's earlier errors and junk commands.
      s.errorCount = 0;
      s.junkCount = 0;
      return say(replies.queued(outcome.queueId));
    case 'too-big':
      return say(replies.messageTooBig(s.options.maxMessageBytes));
    case 'bare-linefeed':
      return refuse(replies.bareLineFeed());
    case 'line-too-long':
      return refuse(replies.dataLineTooLong());
    case 'failed':
      return say(outcome.reply);
  }
}

function onRecipientChecked(s: SessionState, refusal: Reply | undefined): VerbResult {
  const tx = s.transaction as Transaction;
  const address = tx.pendingRecipient as string;
  tx.pendingRecipient = undefined;
  // The sink's refusal (550 5.1.1 unknown user, 451 when it cannot tell) is policy, not a mistake.
  if (refusal) return say(refusal);
  if (!tx.recipients.includes(address)) tx.recipients.push(address);
  return say(replies.recipientOk());
}

function onMessageOpened(s: SessionState): VerbResult {
  const tx = s.transaction as Transaction;
  if (!tx.chunking) {
    s.awaiting = 'data';
    return { replies: [replies.startData()], actions: [{ kind: 'receive-data', maxBytes: s.options.maxMessageBytes }] };
  }
  tx.chunking.isOpen = true;
  const chunk = tx.pendingChunk as { bytes: number; last: boolean };
  tx.pendingChunk = undefined;
  return receiveChunk(s, chunk);
}

function onMessageOpenFailed(s: SessionState, reply: Reply): VerbResult {
  const chunk = s.transaction?.pendingChunk;
  s.transaction = undefined;
  // Our storage failing is never the client's error.
  if (chunk) return discardChunk(s, chunk.bytes, policy(reply));
  return say(reply);
}

function onChunkReceived(s: SessionState, bytes: number): VerbResult {
  const tx = s.transaction as Transaction;
  if (tx.pendingReply) {
    const refusal = tx.pendingReply;
    // A refused chunk of a live transaction leaves it as it was; a stray one leaves nothing.
    tx.pendingReply = undefined;
    if (tx.isStray) s.transaction = undefined;
    return say(refusal);
  }
  if (tx.chunking) tx.chunking.bytes += bytes;
  return say(replies.chunkOk(bytes));
}

/** Routes each completion event to its handler; `awaitedBy` says which wait it ends. */
export const completions = {
  awaitedBy: {
    'message-counted': ['message-count'],
    'recipient-checked': ['recipient-check'],
    'message-opened': ['message-open'],
    'message-open-failed': ['message-open'],
    'chunk-received': ['chunk'],
    // The last BDAT chunk ends like DATA does: with the stored message.
    'data-finished': ['data', 'chunk'],
  } as const satisfies Record<CompletionEvent['type'], readonly Awaiting[]>,
  handle(s: SessionState, e: CompletionEvent): VerbResult {
    switch (e.type) {
      case 'message-counted':
        return onMessageCounted(s, e.refusal);
      case 'recipient-checked':
        return onRecipientChecked(s, e.refusal);
      case 'message-opened':
        return onMessageOpened(s);
      case 'message-open-failed':
        return onMessageOpenFailed(s, e.reply);
      case 'chunk-received':
        return onChunkReceived(s, e.bytes);
      case 'data-finished':
        s.transaction = undefined;
        return outcomeReply(s, e.outcome);
    }
  },
};
