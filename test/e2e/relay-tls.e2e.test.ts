// The relay's STARTTLS against a receiving mta with a certificate from a test CA the system does
// not trust: relay.tls = "may" delivers encrypted (the receiver says ESMTPS in its Received
// header), "verify" refuses the unknown certificate and defers with the reason.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { freePort, MTA, type RunningServer, startServer } from '../helpers/server.js';
import { makeTestPki, tlsSettings } from '../helpers/tls.js';

let dns: TestDnsServer;
let mx: RunningServer;
let mxPort = 0;
const senders: RunningServer[] = [];

/** A sender whose relay uses `tls`. */
async function sender(tls: string): Promise<RunningServer> {
  const s = await startServer({
    awaitGreeting: true,
    top: `dns = { servers = [ "${dns.server}" ]; timeout = 1; };\nrelay = { port = ${mxPort}; tls = "${tls}"; };`,
  });
  senders.push(s);
  return s;
}

/** Submits one message from 127.0.0.2, a client the helper's config lets relay; returns the reply to the dot. */
async function relayThrough(server: RunningServer, rcpt: string, body: string): Promise<string> {
  const c = await RawClient.connect(server.port, '127.0.0.1', '127.0.0.2');
  await c.reply();
  for (const line of ['EHLO client.test', 'MAIL FROM:<sender@example.org>', `RCPT TO:<${rcpt}>`, 'DATA']) {
    await c.send(`${line}\r\n`);
    await c.reply();
  }
  await c.send(`${body}.\r\n`);
  const done = (await c.reply()).last;
  c.close();
  return done;
}

beforeAll(async () => {
  mxPort = await freePort();
  dns = await startDnsServer([
    { name: 'secure.test', type: 'MX', exchange: 'mx.secure.test', priority: 10 },
    { name: 'mx.secure.test', type: 'A', address: '127.0.0.28' },
  ]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-relay-tls-'));
  const pki = makeTestPki(dir);
  mx = await startServer({ dir, host: '127.0.0.28', port: mxPort, domains: ['secure.test'], top: tlsSettings(pki), log: 'level = "info";', awaitGreeting: true });
  const box = path.join(dir, 'mail', 'secure.test', 'alice');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(box, sub), { recursive: true });
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'nobody:nogroup', path.join(dir, 'mail')]);
});
afterAll(async () => {
  for (const s of senders) await s.stop();
  await mx?.stop();
  await dns?.close();
});

describe('relay over TLS', () => {
  it('relay with tls = "may" delivers over STARTTLS to a server whose certificate it cannot verify', async () => {
    const s = await sender('may');
    expect(await relayThrough(s, 'alice@secure.test', 'Subject: encrypted\r\n\r\nhi\r\n')).toMatch(/^250 /);
    const box = path.join(mx.dir, 'mail', 'secure.test', 'alice', 'new');
    const [file] = await waitFor('the delivery', () => readdirSync(box).length > 0 && readdirSync(box));
    // The receiver's Received header (the first one, folded) says the relay came over TLS.
    const text = readFileSync(path.join(box, file ?? ''), 'utf8');
    const first = text.slice(text.indexOf('Received: from mx.test'), text.indexOf('Received: from client.test'));
    expect(first).toMatch(/with ESMTPS /);
  });

  it('relay with tls = "verify" refuses the unknown certificate and defers with the reason', async () => {
    const s = await sender('verify');
    expect(await relayThrough(s, 'alice@secure.test', 'Subject: checked\r\n\r\nhi\r\n')).toMatch(/^250 /);
    const listed = await waitFor('the deferral', () => {
      const out = execFileSync(process.execPath, [MTA, 'queue', 'list', '-f', s.configPath], { encoding: 'utf8' });
      return /alice@secure\.test +deferred, .*451 4\.4\.1 .*STARTTLS handshake/.test(out) && out;
    });
    expect(listed).toMatch(/certificate|CERT|self.signed|issuer/i);
  });
});
