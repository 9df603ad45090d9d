// A commit slower than server.timeouts.data_end is still answered by its outcome: a message that
// reached the disk gets 250, never 451 (the client's retry would duplicate it). The server runs
// in this process with a sink whose commit takes longer than data_end.
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import type { MessageSink } from '../../src/server/message-sink.js';
import { SmtpServer } from '../../src/server/smtp-server.js';
import { RawClient } from '../helpers/raw-client.js';

const COMMIT_MS = 400;
let listener: net.Server;
let port = 0;

const slowSink: MessageSink = {
  checkRecipient: async () => undefined,
  open: async () => ({
    ok: true,
    writer: {
      queueId: 'SLOWCOMMIT000000',
      body: new Writable({ write: (_chunk, _encoding, done) => done() }),
      commit: () => new Promise((resolve) => setTimeout(() => resolve({ ok: true, queueId: 'SLOWCOMMIT000000' }), COMMIT_MS)),
      abort: async () => undefined,
    },
  }),
};

beforeAll(async () => {
  const server = new SmtpServer(
    {
      session: { hostname: 'mx.test', maxMessageBytes: 100_000, maxRecipients: 10, maxErrors: 20, isLocal: () => true },
      sink: slowSink,
      timeouts: { commandMs: 10_000, dataBlockMs: 10_000, dataEndMs: 50, sessionMs: 60_000, tlsHandshakeMs: 10_000 },
      bareLinefeed: 'reject',
      now: () => new Date(),
      lookupName: async () => ({ kind: 'off' }),
      lookupDnsbl: async () => [],
      clientPolicy: { reverseDns: 'off', rejectAt: 'rcpt' },
      mayRelay: () => false,
    },
    silentLogger(),
  );
  listener = net.createServer((socket) => void server.handle(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
});
afterAll(() => {
  listener.close();
});

describe('commit wait', () => {
  it('server answers 250 for a commit that outlasts data_end, not 451', async () => {
    const c = await RawClient.connect(port);
    await c.reply();
    for (const line of ['EHLO client.test', 'MAIL FROM:<a@client.test>', 'RCPT TO:<b@example.org>', 'DATA']) {
      await c.send(`${line}\r\n`);
      await c.reply();
    }
    await c.send('Subject: slow\r\n\r\nhi\r\n.\r\n');
    expect((await c.reply()).last).toBe('250 2.0.0 OK: queued as SLOWCOMMIT000000');
    c.close();
  });
});
