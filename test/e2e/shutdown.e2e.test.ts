// Graceful shutdown of the built server on SIGTERM: an idle session gets 421 4.3.2 at once, a
// message in progress is finished and acknowledged (250, then 421 4.3.2), nothing new is
// accepted, and the process exits 0. Each test starts its own server, since each stops it.
import { afterEach, describe, expect, it } from 'vitest';
import { newFolder, readMessage, waitForFiles } from '../helpers/maildir.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

/** Connects and says EHLO; resolves with the client ready for a transaction. */
async function greeted(port: number, host = '127.0.0.1'): Promise<RawClient> {
  const c = await RawClient.connect(port, host);
  expect((await c.reply()).code).toBe(220);
  await c.send('EHLO client.test\r\n');
  expect((await c.reply()).code).toBe(250);
  return c;
}

/**
 * What a new client gets now: 'refused' when nothing listens, 'closed' when its connection was cut
 * unanswered (it waited in the backlog as the last listener closed), or the reply it got.
 */
async function newClientGets(port: number): Promise<string> {
  const client = await RawClient.connect(port).catch(() => undefined);
  if (!client) return 'refused';
  try {
    return (await client.reply(5000)).last;
  } catch {
    return 'closed';
  } finally {
    client.close();
  }
}

describe('shutdown', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('server finishes a message in progress on SIGTERM, 421s idle sessions and exits 0', async () => {
    server = await startServer({ awaitGreeting: true });
    const idle = await greeted(server.port);
    const idle6 = await greeted(server.port, '::1');
    const busy = await greeted(server.port);
    try {
      await busy.send('MAIL FROM:<sender@example.net>\r\nRCPT TO:<drain@example.org>\r\nDATA\r\n');
      for (const code of [250, 250, 354]) expect((await busy.reply()).code).toBe(code);
      await busy.send('Subject: drain\r\n\r\nfirst half\r\n');

      const exited = server.stop('SIGTERM');
      // Idle sessions are told at once; waiting for that reply is waiting for the signal to land.
      expect((await idle.reply()).last).toMatch(/^421 4\.3\.2 mx\.test /);
      expect((await idle6.reply()).last).toMatch(/^421 4\.3\.2 mx\.test /);
      await idle.closed();
      await idle6.closed();
      // The workers stop accepting as their drain message lands; one accepted a moment before is
      // refused by the supervisor.
      expect(await newClientGets(server.port)).toMatch(/^(refused|closed|421 4\.3\.2 mx\.test .*)$/);

      await busy.send('second half\r\n.\r\n');
      expect((await busy.reply()).last).toMatch(/^250 2\.0\.0 OK: queued as /);
      expect((await busy.reply()).last).toMatch(/^421 4\.3\.2 mx\.test /);
      await busy.closed();
      expect(await exited).toBe(0);
      expect(await newClientGets(server.port)).toBe('refused');

      const [file] = await waitForFiles(newFolder(`${server.dir}/mail`, 'drain@example.org'), 1);
      expect(readMessage(file as string).body).toBe('first half\nsecond half\n');
    } finally {
      for (const c of [idle, idle6, busy]) c.close();
    }
  });

  it('server with only idle sessions exits 0 on SIGTERM after telling each 421 4.3.2', async () => {
    server = await startServer({ awaitGreeting: true });
    const clients = [await greeted(server.port), await greeted(server.port)];
    try {
      const exited = server.stop('SIGTERM');
      for (const c of clients) {
        expect((await c.reply()).last).toMatch(/^421 4\.3\.2 /);
        await c.closed();
      }
      expect(await exited).toBe(0);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('server with no sessions exits 0 on SIGTERM', async () => {
    server = await startServer({ awaitGreeting: true });
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});
