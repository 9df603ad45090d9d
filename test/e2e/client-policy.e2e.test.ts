// Who may talk to the server, decided from DNS at connect: forward-confirmed reverse DNS with
// reverse_dns = "require" (RFC 7372 codes) and DNS blocklists, against a DNS server on loopback.
// Each client binds its own source address in 127.0.0.0/8, so each has its own PTR story.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsblQueryName } from '../../src/dns/dnsbl.js';
import { type Failure, reverseName, startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

let dns: TestDnsServer;

beforeAll(async () => {
  dns = await startDnsServer(
    [
      { name: reverseName('127.0.0.10'), type: 'PTR', domain: 'good.client.test' },
      { name: 'good.client.test', type: 'A', address: '127.0.0.10' },
      { name: reverseName('127.0.0.11'), type: 'PTR', domain: 'liar.client.test' },
      { name: 'liar.client.test', type: 'A', address: '192.0.2.1' },
      { name: reverseName('127.0.0.14'), type: 'PTR', domain: 'spammer.client.test' },
      { name: 'spammer.client.test', type: 'A', address: '127.0.0.14' },
      { name: dnsblQueryName('127.0.0.14', 'bl.test'), type: 'A', address: '127.0.0.2' },
      { name: dnsblQueryName('127.0.0.14', 'bl.test'), type: 'TXT', data: 'listed for testing' },
    ],
    new Map<string, Failure>([
      [reverseName('127.0.0.13'), 'servfail'],
      // A blocklist that never answers must not block anyone (127.0.0.10 asks it too).
      [dnsblQueryName('127.0.0.10', 'dead.test'), 'silent'],
    ]),
  );
});
afterAll(async () => {
  await dns.close();
});

/** Connects from `source` and sends RCPTs; returns the greeting and each RCPT reply as `code text`. */
async function tryRecipients(server: RunningServer, source: string, recipients: readonly string[]): Promise<string[]> {
  const c = await RawClient.connect(server.port, '127.0.0.1', source);
  const out = [(await c.reply()).last];
  if (!out[0]?.startsWith('220')) return out;
  await c.send('EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n');
  await c.reply();
  await c.reply();
  for (const rcpt of recipients) {
    await c.send(`RCPT TO:<${rcpt}>\r\n`);
    out.push((await c.reply()).last);
  }
  c.close();
  return out;
}

function dnsConfig(extra = ''): string {
  return `reverse_dns = "require"; dnsbl = [ "bl.test", "dead.test" ]; ${extra}`;
}

describe('client policy at RCPT', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ server: dnsConfig(), top: `dns = { servers = [ "${dns.server}" ]; timeout = 1; };` });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('server accepts a client whose reverse DNS confirms, and names it in Received', async () => {
    const replies = await tryRecipients(server, '127.0.0.10', ['bob@example.org']);
    expect(replies.slice(1)).toEqual(['250 2.1.5 Recipient OK']);
    const c = await RawClient.connect(server.port, '127.0.0.1', '127.0.0.10');
    await c.reply();
    for (const line of ['EHLO client.test', 'MAIL FROM:<a@client.test>', 'RCPT TO:<bob@example.org>', 'DATA']) {
      await c.send(`${line}\r\n`);
      await c.reply();
    }
    await c.send('Subject: hi\r\n\r\nhello\r\n.\r\n');
    expect((await c.reply()).code).toBe(250);
    c.close();
    const box = path.join(server.dir, 'mail', 'example.org', 'bob', 'new');
    const [file] = await waitFor('the delivery', () => readdirSync(box).length === 1 && readdirSync(box));
    expect(readFileSync(path.join(box, file ?? ''), 'utf8')).toMatch(/^Received: from client\.test \(good\.client\.test \[127\.0\.0\.10\]\)/m);
  });

  it.each([
    ['127.0.0.12', 'without a PTR name', '550 5.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.12]'],
    ['127.0.0.11', 'whose PTR name does not resolve back', '550 5.7.25 Client host rejected: your reverse hostname liar.client.test does not resolve to [127.0.0.11]'],
    ['127.0.0.13', 'whose PTR lookup fails', '450 4.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.13] (DNS failure; try again later)'],
    ['127.0.0.14', 'listed in a blocklist', '554 5.7.1 Service unavailable; client [127.0.0.14] blocked using bl.test; listed for testing'],
  ])('server refuses RCPT from %s (%s) but lets it reach postmaster', async (source, _why, refusal) => {
    const replies = await tryRecipients(server, source, ['bob@example.org', 'postmaster@example.org']);
    expect(replies.slice(1)).toEqual([refusal, '250 2.1.5 Recipient OK']);
  });
});

describe('client policy at connect', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ server: dnsConfig('reject_client_at = "connect";'), top: `dns = { servers = [ "${dns.server}" ]; timeout = 1; };` });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('server greets a refused client with 554 (421 for a DNS failure) and closes', async () => {
    expect(await tryRecipients(server, '127.0.0.12', [])).toEqual(['554 5.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.12]']);
    expect((await tryRecipients(server, '127.0.0.13', []))[0]).toMatch(/^421 4\.7\.25 /);
    expect((await tryRecipients(server, '127.0.0.10', []))[0]).toMatch(/^220 /);
  });
});
