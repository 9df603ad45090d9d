// SMTP smuggling (CVE-2023-51764 and kin) against the built server: a bare LF or CR around a dot
// never ends DATA, so commands hidden after it are never run. With bare_linefeed = "reject" the
// message is refused with 550 5.6.0 once the real CRLF.CRLF arrives; with "normalize" it is
// delivered whole, the hidden commands inside its body, and no second message appears.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, newFolder, readMessage } from '../helpers/maildir.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const SEQUENCES: readonly [string, string][] = [
  ['LF.LF', '\n.\n'],
  ['CR.CR', '\r.\r'],
  ['LF.CRLF', '\n.\r\n'],
  ['CRLF.LF', '\r\n.\n'],
  ['CRLF.CR', '\r\n.\r'],
];

/** A message whose body hides a second transaction behind a fake end of data. */
function smuggling(sequence: string, rcpt: string): string {
  return (
    `Subject: carrier\r\n\r\nfirst part${sequence}` +
    'MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n' +
    'Subject: smuggled\r\n\r\nevil body\r\n.\r\n'.replace('evil body', `evil body for ${rcpt}`)
  );
}

/** Runs one transaction with the smuggling body; returns the reply to the end of data. */
async function sendSmuggling(port: number, sequence: string, rcpt: string): Promise<{ dataReply: string; after: string }> {
  const c = await RawClient.connect(port);
  try {
    expect((await c.reply()).code).toBe(220);
    await c.send(`EHLO client.test\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
    for (const code of [250, 250, 250, 354]) expect((await c.reply()).code).toBe(code);
    await c.send(smuggling(sequence, rcpt));
    const dataReply = (await c.reply()).last;
    // The next reply must answer this NOOP, not a smuggled MAIL/RCPT/DATA.
    await c.send('NOOP\r\n');
    const after = (await c.reply()).last;
    return { dataReply, after };
  } finally {
    c.close();
  }
}

describe('smuggling with bare_linefeed = "reject"', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  for (const [name, sequence] of SEQUENCES) {
    it(`server does not end DATA at ${name} and refuses the message with 550 5.6.0`, async () => {
      const rcpt = `reject-${name.replace(/\./g, '-').toLowerCase()}@example.org`;
      const { dataReply, after } = await sendSmuggling(server.port, sequence, rcpt);
      expect(dataReply).toMatch(/^550 5\.6\.0 /);
      expect(after).toBe('250 2.0.0 OK');
      expect(listFiles(newFolder(`${server.dir}/mail`, rcpt))).toEqual([]);
      expect(listFiles(newFolder(`${server.dir}/mail`, 'victim@example.org'))).toEqual([]);
    });
  }

  it('server ends DATA at a CRLF.CRLF that arrives one byte per write', async () => {
    const c = await RawClient.connect(server.port);
    try {
      expect((await c.reply()).code).toBe(220);
      await c.send('EHLO client.test\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<split@example.org>\r\nDATA\r\n');
      for (const code of [250, 250, 250, 354]) expect((await c.reply()).code).toBe(code);
      await c.send('Subject: split\r\n\r\nbody');
      for (const byte of '\r\n.\r\n') await c.send(byte);
      expect((await c.reply()).last).toMatch(/^250 2\.0\.0 OK: queued as /);
      const files = listFiles(newFolder(`${server.dir}/mail`, 'split@example.org'));
      expect(files).toHaveLength(1);
      expect(readMessage(files[0] as string).body).toBe('body\n');
    } finally {
      c.close();
    }
  });

  it('server refuses a command line ending in a bare LF with 500 5.5.2 and goes on', async () => {
    const c = await RawClient.connect(server.port);
    try {
      expect((await c.reply()).code).toBe(220);
      await c.send('EHLO client.test\nNOOP\r\n');
      expect((await c.reply()).last).toMatch(/^500 5\.5\.2 /);
      expect((await c.reply()).last).toBe('250 2.0.0 OK');
      await c.send('EHLO client.test\r\nMAIL FROM:<sender@example.net>\nRCPT TO:<x@example.org>\r\n');
      expect((await c.reply()).code).toBe(250);
      expect((await c.reply()).last).toMatch(/^500 5\.5\.2 /);
      expect((await c.reply()).last).toMatch(/^503 5\.5\.1 /); // the MAIL never happened
    } finally {
      c.close();
    }
  });
});

describe('smuggling with bare_linefeed = "normalize"', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true, server: 'bare_linefeed = "normalize";' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  for (const [name, sequence] of SEQUENCES) {
    it(`server does not end DATA at ${name} and delivers one whole message`, async () => {
      const rcpt = `normalize-${name.replace(/\./g, '-').toLowerCase()}@example.org`;
      const { dataReply, after } = await sendSmuggling(server.port, sequence, rcpt);
      expect(dataReply).toMatch(/^250 2\.0\.0 OK: queued as /);
      expect(after).toBe('250 2.0.0 OK');
      const files = listFiles(newFolder(`${server.dir}/mail`, rcpt));
      expect(files).toHaveLength(1);
      const m = readMessage(files[0] as string);
      expect(m.raw).not.toContain('\r');
      expect(m.headers).toContain('Subject: carrier\n');
      expect(m.body).toMatch(/^first part\n/);
      expect(m.body).toContain('\nMAIL FROM:<evil@example.net>\nRCPT TO:<victim@example.org>\nDATA\nSubject: smuggled\n\n');
      expect(m.body.endsWith(`evil body for ${rcpt}\n`)).toBe(true);
      expect(listFiles(newFolder(`${server.dir}/mail`, 'victim@example.org'))).toEqual([]);
    });
  }
});
