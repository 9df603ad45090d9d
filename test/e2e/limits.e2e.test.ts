// Session limits of the built server over loopback, with exact bytes from the raw client:
// command line length, text line length in DATA, errors per session (and what does not count),
// recipients per message, and connections in all and per client IP (refused with 421 at connect).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, newFolder, waitForFiles } from '../helpers/maildir.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

/** Connects, checks the 220 greeting and says EHLO. */
async function session(port: number, host = '127.0.0.1'): Promise<RawClient> {
  const c = await RawClient.connect(port, host);
  expect((await c.reply()).code).toBe(220);
  await c.send('EHLO client.test\r\n');
  expect((await c.reply()).code).toBe(250);
  return c;
}

describe('session limits', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true, server: 'max_errors = 3; max_recipients = 3;' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('server refuses a command line over 512 octets with 500 5.5.2 and the session goes on', async () => {
    const c = await session(server.port);
    try {
      await c.send(`NOOP ${'x'.repeat(505)}\r\n`); // 512 octets with CRLF: the limit itself
      expect((await c.reply()).last).toMatch(/^250 2\.0\.0/);
      await c.send(`NOOP ${'x'.repeat(506)}\r\n`);
      expect((await c.reply()).last).toMatch(/^500 5\.5\.2 /);
      await c.send(`MAIL FROM:<${'a'.repeat(600)}@example.net>\r\nNOOP\r\n`);
      expect((await c.reply()).last).toMatch(/^500 5\.5\.2 /);
      expect((await c.reply()).last).toMatch(/^250 2\.0\.0/);
    } finally {
      c.close();
    }
  });

  it('server refuses a DATA text line over 1000 octets with 500 5.5.2 after the end of data', async () => {
    const c = await session(server.port);
    try {
      await c.send('MAIL FROM:<sender@example.net>\r\nRCPT TO:<long@example.org>\r\nDATA\r\n');
      expect((await c.reply()).code).toBe(250);
      expect((await c.reply()).code).toBe(250);
      expect((await c.reply()).code).toBe(354);
      await c.send(`Subject: long\r\n\r\n${'y'.repeat(999)}\r\nmore\r\n`);
      await c.send('.\r\n');
      expect((await c.reply()).last).toMatch(/^500 5\.5\.2 /);
      await c.send('NOOP\r\n');
      expect((await c.reply()).code).toBe(250);
      expect(listFiles(newFolder(`${server.dir}/mail`, 'long@example.org'))).toEqual([]);
      // 998 octets and CRLF are allowed, with the stuffing dot not counted (RFC 5321 4.5.3.1.6).
      await c.send(`MAIL FROM:<sender@example.net>\r\nRCPT TO:<long@example.org>\r\nDATA\r\n`);
      for (const code of [250, 250, 354]) expect((await c.reply()).code).toBe(code);
      await c.send(`Subject: fits\r\n\r\n${'y'.repeat(998)}\r\n..${'z'.repeat(997)}\r\n.\r\n`);
      expect((await c.reply()).last).toMatch(/^250 2\.0\.0 /);
      expect(await waitForFiles(newFolder(`${server.dir}/mail`, 'long@example.org'))).toHaveLength(1);
    } finally {
      c.close();
    }
  });

  it('server closes the session with 421 4.7.0 after max_errors bad commands, not counting VRFY', async () => {
    const c = await session(server.port);
    try {
      // VRFY's 502 is our policy, not the client's error; the 503 of RCPT before MAIL is.
      await c.send('FROB\r\nVRFY x\r\nRCPT TO:<a@example.org>\r\n');
      expect((await c.reply()).code).toBe(500);
      expect((await c.reply()).code).toBe(502);
      expect((await c.reply()).code).toBe(503);
      await c.send('FROB again\r\n');
      expect((await c.reply()).code).toBe(500);
      expect((await c.reply()).last).toMatch(/^421 4\.7\.0 mx\.test /);
      await c.closed();
    } finally {
      c.close();
    }
  });

  it('server answers 452 4.5.3 past max_recipients, more often than max_errors, and delivers to those accepted', async () => {
    const c = await session(server.port);
    try {
      await c.send('MAIL FROM:<sender@example.net>\r\n');
      expect((await c.reply()).code).toBe(250);
      // Ten overshoots with max_errors = 3: RFC 5321 4.5.3.1.10 has the client go on with DATA.
      await c.send(Array.from({ length: 13 }, (_, i) => `RCPT TO:<r${i + 1}@example.org>\r\n`).join(''));
      for (let i = 0; i < 3; i += 1) expect((await c.reply()).last).toMatch(/^250 2\.1\.5 /);
      for (let i = 0; i < 10; i += 1) expect((await c.reply()).last).toMatch(/^452 4\.5\.3 /);
      await c.send('DATA\r\n');
      expect((await c.reply()).code).toBe(354);
      await c.send('Subject: many\r\n\r\nhi\r\n.\r\n');
      expect((await c.reply()).code).toBe(250);
      for (const r of ['r1', 'r2', 'r3']) expect(await waitForFiles(newFolder(`${server.dir}/mail`, `${r}@example.org`))).toHaveLength(1);
      expect(listFiles(newFolder(`${server.dir}/mail`, 'r4@example.org'))).toEqual([]);
    } finally {
      c.close();
    }
  });
});

describe('connection limits', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true, server: 'max_connections = 3; max_connections_per_ip = 2;' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  /** Connects and returns the first reply (the greeting or the refusal). */
  async function greeting(host: string): Promise<{ client: RawClient; last: string }> {
    const client = await RawClient.connect(server.port, host);
    return { client, last: (await client.reply()).last };
  }

  /**
   * Connects until greeted with 220: a session that just ended (the readiness probe, a QUIT)
   * still holds its slot until the server has seen it close.
   */
  async function admitted(host: string): Promise<RawClient> {
    const until = Date.now() + 10_000;
    for (;;) {
      const g = await greeting(host);
      if (g.last.startsWith('220') || Date.now() > until) {
        expect(g.last).toMatch(/^220 /);
        return g.client;
      }
      g.client.close();
      await new Promise((r) => setTimeout(r, 50)); // a pause between polls
    }
  }

  it('server refuses connections over max_connections_per_ip and max_connections with 421 4.7.0', async () => {
    const open: RawClient[] = [];
    try {
      open.push(await admitted('127.0.0.1'), await admitted('127.0.0.1'));
      const perIp = await greeting('127.0.0.1');
      open.push(perIp.client);
      expect(perIp.last).toMatch(/^421 4\.7\.0 mx\.test /);
      await perIp.client.closed();

      open.push(await admitted('::1')); // another client address: the third session in all
      const overall = await greeting('::1');
      open.push(overall.client);
      expect(overall.last).toMatch(/^421 4\.7\.0 mx\.test /);
      await overall.client.closed();

      // Once a session ends, its slot is free again.
      const first = open.shift() as RawClient;
      await first.send('QUIT\r\n');
      expect((await first.reply()).code).toBe(221);
      await first.closed();
      open.push(await admitted('127.0.0.1'));
    } finally {
      for (const c of open) c.close();
    }
  });
});

describe('a client that ends its session and comes straight back', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true, server: 'max_connections_per_ip = 1;' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  // Workers report closes lazily; the supervisor, holding the new connection at the limit, asks
  // for them. The next session starts right after the 221, before the server may have seen the
  // close; whichever worker the kernel gives it to, it is greeted.
  it('is greeted with 220 at once, 20 times in a row, with max_connections_per_ip = 1', async () => {
    const greetings: string[] = [];
    for (let round = 0; round < 20; round++) {
      const c = await RawClient.connect(server.port, '127.0.0.1');
      try {
        const first = (await c.reply()).last;
        greetings.push(first.slice(0, 3));
        if (!first.startsWith('220')) continue;
        await c.send('QUIT\r\n');
        expect((await c.reply()).code).toBe(221);
      } finally {
        c.close();
      }
    }
    expect(greetings).toEqual(Array(20).fill('220'));
  });
});
