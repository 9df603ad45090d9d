// Stage timeouts of the built server (RFC 5321 4.5.3.2) with one-second values from the config:
// an idle client and a client that stalls mid-DATA both get 421 4.4.2 and are disconnected, and
// the stalled message is not delivered. We wait for the server's reply, never a fixed time, and
// assert no durations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, newFolder } from '../helpers/maildir.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

describe('timeouts', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true, server: 'timeouts = { command = 1; data_block = 1; };' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('server sends 421 4.4.2 to an idle client and closes the connection', async () => {
    const c = await RawClient.connect(server.port);
    try {
      expect((await c.reply()).code).toBe(220);
      await c.send('EHLO client.test\r\n');
      expect((await c.reply()).code).toBe(250);
      expect((await c.reply(30_000)).last).toMatch(/^421 4\.4\.2 mx\.test /);
      await c.closed();
    } finally {
      c.close();
    }
  });

  it('server sends 421 4.4.2 to a client that stalls mid-DATA and delivers nothing', async () => {
    const c = await RawClient.connect(server.port);
    try {
      expect((await c.reply()).code).toBe(220);
      await c.send('EHLO client.test\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<stall@example.org>\r\nDATA\r\n');
      for (const code of [250, 250, 250, 354]) expect((await c.reply()).code).toBe(code);
      await c.send('Subject: stalled\r\n\r\nhalf a message\r\n');
      expect((await c.reply(30_000)).last).toMatch(/^421 4\.4\.2 mx\.test /);
      await c.closed();
      expect(listFiles(newFolder(`${server.dir}/mail`, 'stall@example.org'))).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('server keeps a session alive while commands keep coming within the timeout', async () => {
    const c = await RawClient.connect(server.port);
    try {
      expect((await c.reply()).code).toBe(220);
      // Each command restarts the command timer; replies are awaited, not timed.
      for (let i = 0; i < 3; i += 1) {
        await c.send('NOOP\r\n');
        expect((await c.reply()).code).toBe(250);
      }
    } finally {
      c.close();
    }
  });
});
