// One SMTP transaction over RawClient for end-to-end tests: greeting, EHLO, MAIL, RCPT, DATA,
// reporting the reply of every stage so tests can assert where a refusal came. No dot-stuffing:
// callers build message text whose lines never start with a dot.
import { RawClient, type WireReply } from './raw-client.js';

/** A message to send; `data` uses CRLF line ends and ends with CRLF. */
export interface Outgoing {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: string;
}

/** What the server answered: the stage that ended the transaction and its reply. */
export interface SendResult {
  readonly stage: 'MAIL' | 'RCPT' | 'DATA' | 'END';
  readonly reply: WireReply;
  /** The queue id named in a 250 after DATA, when the reply names one. */
  readonly queueId: string | undefined;
}

/** Builds a small RFC 5322 message with CRLF line ends. */
export function buildMessage(fields: { from: string; to: string; messageId: string; subject: string; body: string }): string {
  return [
    `From: <${fields.from}>`,
    `To: <${fields.to}>`,
    `Subject: ${fields.subject}`,
    `Message-ID: <${fields.messageId}>`,
    '',
    fields.body,
  ]
    .join('\r\n')
    .concat('\r\n');
}

/** Reads the next reply and checks its code. */
export async function expectReply(client: RawClient, code: number, timeoutMs?: number): Promise<WireReply> {
  const reply = await client.reply(timeoutMs);
  if (reply.code !== code) throw new Error(`expected ${code}, got ${reply.last}`);
  return reply;
}

/** Tells, even when the transaction throws, whether the final dot of DATA went out. */
export interface Progress {
  isDotSent: boolean;
}

/** Runs one transaction on an open, greeted session; stops at the first refusal. */
export async function transact(client: RawClient, message: Outgoing, progress?: Progress): Promise<SendResult> {
  await client.send(`MAIL FROM:<${message.from}>\r\n`);
  let reply = await client.reply();
  if (reply.code !== 250) return { stage: 'MAIL', reply, queueId: undefined };
  for (const rcpt of message.to) {
    await client.send(`RCPT TO:<${rcpt}>\r\n`);
    reply = await client.reply();
    if (reply.code !== 250) {
      await client.send('RSET\r\n');
      await client.reply();
      return { stage: 'RCPT', reply, queueId: undefined };
    }
  }
  await client.send('DATA\r\n');
  reply = await client.reply();
  if (reply.code !== 354) return { stage: 'DATA', reply, queueId: undefined };
  if (progress) progress.isDotSent = true;
  await client.send(`${message.data}.\r\n`);
  reply = await client.reply();
  return { stage: 'END', reply, queueId: /\b([0-9A-Z]{16})\b/.exec(reply.last)?.[1] };
}

/** Connects, greets with EHLO and sends one message; closes the connection afterwards. */
export async function sendOnce(port: number, message: Outgoing, localAddress?: string): Promise<SendResult> {
  const client = await RawClient.connect(port, '127.0.0.1', localAddress);
  try {
    await expectReply(client, 220);
    await client.send('EHLO client.test\r\n');
    await expectReply(client, 250);
    const result = await transact(client, message);
    await client.send('QUIT\r\n');
    await client.reply().catch(() => undefined);
    return result;
  } finally {
    client.close();
  }
}
