// The relay end to end: mta delivers queued mail to the MX hosts of remote domains, found through
// a DNS server on loopback, over real SMTP to another program: a second mta (the receiving MX,
// which stores into Maildir so the bytes can be compared). Bounces come back to a local sender
// and are read with Python's email package.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { logLines, waitFor } from '../helpers/process.js';
import { runPython, shouldRunWith } from '../helpers/peers.js';
import { RawClient } from '../helpers/raw-client.js';
import { freePort, MTA, type RunningServer, startServer } from '../helpers/server.js';

let dns: TestDnsServer;
let mx: RunningServer; // the receiving MX: a second mta on 127.0.0.25, local for fine.test and backup.test
let sender: RunningServer; // the mta under test
let mxPort = 0;

/** Makes a mailbox the (possibly unprivileged) server can write. */
function mailbox(server: RunningServer, domain: string, user: string): string {
  const dir = path.join(server.dir, 'mail', domain, user);
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, sub), { recursive: true });
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'nobody:nogroup', path.join(server.dir, 'mail')]);
  return path.join(dir, 'new');
}

/** Sends messages in one session from 127.0.0.2 (a relay client); returns the reply to each final dot. */
async function send(messages: readonly { from: string; to: readonly string[]; body: string }[], via: RunningServer = sender): Promise<string[]> {
  const c = await RawClient.connect(via.port, '127.0.0.1', '127.0.0.2');
  await c.reply();
  await c.send('EHLO client.test\r\n');
  await c.reply();
  const out: string[] = [];
  for (const m of messages) {
    for (const line of [`MAIL FROM:<${m.from}>`, ...m.to.map((t) => `RCPT TO:<${t}>`), 'DATA']) {
      await c.send(`${line}\r\n`);
      await c.reply();
    }
    await c.send(`${m.body}.\r\n`);
    out.push((await c.reply()).last);
  }
  c.close();
  return out;
}

const files = (dir: string) => readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8'));

beforeAll(async () => {
  mxPort = await freePort();
  dns = await startDnsServer([
    { name: 'fine.test', type: 'MX', exchange: 'mx.fine.test', priority: 10 },
    { name: 'mx.fine.test', type: 'A', address: '127.0.0.25' },
    // No MX at all: the domain's own address is its mail host (implicit MX).
    { name: 'implicit.test', type: 'A', address: '127.0.0.25' },
    // The first MX refuses connections; the second takes the mail.
    { name: 'backup.test', type: 'MX', exchange: 'dead.backup.test', priority: 10 },
    { name: 'backup.test', type: 'MX', exchange: 'mx.fine.test', priority: 20 },
    { name: 'dead.backup.test', type: 'A', address: '127.0.0.26' },
    // RFC 7505: no mail at all.
    { name: 'null.test', type: 'MX', exchange: '', priority: 0 },
  ]);
  mx = await startServer({ host: '127.0.0.25', port: mxPort, domains: ['fine.test', 'backup.test', 'implicit.test'], maildir: '', log: 'level = "info";', awaitGreeting: true });
  sender = await startServer({
    awaitGreeting: true,
    log: 'level = "info";',
    maildir: '',
    top: `dns = { servers = [ "${dns.server}" ]; timeout = 1; };\nrelay = { port = ${mxPort}; tls = "none"; retry_min_interval = 1; };`,
  });
});
afterAll(async () => {
  await sender?.stop();
  await mx?.stop();
  await dns?.close();
});

describe('relay', () => {
  it('relay delivers to the MX of a remote domain, bytes intact and dot-stuffing undone', async () => {
    const box = mailbox(mx, 'fine.test', 'alice');
    const body = 'Subject: relayed\r\n\r\nfirst line\r\n..a line that starts with a dot\r\n';
    expect(await send([{ from: 'sender@example.org', to: ['alice@fine.test'], body }])).toEqual([expect.stringMatching(/^250 /)]);
    const [text] = await waitFor('the relayed message', () => readdirSync(box).length === 1 && files(box));
    expect(text).toContain('Subject: relayed\n');
    expect(text).toContain('\nfirst line\n.a line that starts with a dot\n');
    // Two Received headers: ours, then the receiving MX's.
    expect(text?.match(/^Received: /gm)).toHaveLength(2);
  });

  it('relay uses the implicit MX and the second MX when the first refuses connections', async () => {
    const implicit = mailbox(mx, 'implicit.test', 'carol');
    const backup = mailbox(mx, 'backup.test', 'dave');
    await send([{ from: 'sender@example.org', to: ['carol@implicit.test', 'dave@backup.test'], body: 'Subject: two domains\r\n\r\nhi\r\n' }]);
    await waitFor('both deliveries', () => readdirSync(implicit).length === 1 && readdirSync(backup).length === 1);
  });

  it('relay sends 20 messages for one MX over one connection', async () => {
    const box = mailbox(mx, 'fine.test', 'erin');
    const messages = Array.from({ length: 20 }, (_, i) => ({ from: 'sender@example.org', to: ['erin@fine.test'], body: `Subject: m${i}\r\n\r\nbody ${i}\r\n` }));
    const before = logLines(mx.output()).length;
    expect((await send(messages)).every((r) => r.startsWith('250 '))).toBe(true);
    await waitFor('20 deliveries', () => readdirSync(box).length === 20);
    // A late line of an earlier test may land after `before`: the last 20 are these messages.
    const accepted = await waitFor('20 log lines', () => {
      const lines = logLines(mx.output()).slice(before).filter((l) => l.msg === 'message accepted');
      return lines.length >= 20 && lines.slice(-20);
    });
    expect(new Set(accepted.map((l) => l.sid)).size).toBe(1);
  });

  it.skipIf(!shouldRunWith('python3', 'relay bounce parsing'))(
    'relay bounces a 5xx recipient to the local sender as an RFC 3464 report while delivering the other',
    async () => {
      const senderBox = mailbox(sender, 'example.org', 'sender2');
      const frank = mailbox(mx, 'fine.test', 'frank');
      // ghost@fine.test has no mailbox on the MX: 550 5.1.1 at RCPT.
      await send([{ from: 'sender2@example.org', to: ['frank@fine.test', 'ghost@fine.test'], body: 'Subject: half\r\n\r\nhi\r\n' }]);
      await waitFor('frank', () => readdirSync(frank).length === 1);
      const [dsnFile] = await waitFor('the bounce', () => readdirSync(senderBox).length === 1 && readdirSync(senderBox));
      const report = await runPython<{ type: string; parts: string[]; recipient: string; action: string; status: string; returnPath: string }>(
        `import email, json, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
parts = [m.get_content_type()] + [p.get_content_type() for p in m.iter_parts()]
status = [p for p in m.walk() if p.get_content_type() == 'message/delivery-status'][0]
blocks = status.get_payload()
rcpt = blocks[1]
print(json.dumps({'type': m.get_content_type(), 'parts': parts, 'recipient': rcpt['Final-Recipient'], 'action': rcpt['Action'], 'status': rcpt['Status'], 'returnPath': m['Return-Path']}))`,
        [path.join(senderBox, dsnFile ?? '')],
      );
      expect(report).toMatchObject({ type: 'multipart/report', recipient: 'rfc822; ghost@fine.test', action: 'failed', status: '5.1.1', returnPath: '<>' });
      expect(report.parts).toEqual(['multipart/report', 'text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    },
  );

  it.skipIf(!shouldRunWith('/usr/sbin/smtp-sink', 'relay retry against smtp-sink'))(
    'relay defers a 4xx at RCPT from Postfix smtp-sink, shows it in mta queue list, and delivers once the server recovers',
    async () => {
      dns.records.push({ name: 'soft.test', type: 'A', address: '127.0.0.27' });
      const dumps = mkdtempSync(path.join(os.tmpdir(), 'mta-sink-'));
      chmodSync(dumps, 0o777);
      // smtp-sink refuses to run as root without -u.
      const asUser = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
      const sink = (args: string[]) => spawn('/usr/sbin/smtp-sink', [...asUser, ...args, `127.0.0.27:${mxPort}`, '10'], { stdio: 'ignore' });
      let server = sink(['-r', 'RCPT']);
      try {
        await send([{ from: 'sender@example.org', to: ['x@soft.test'], body: 'Subject: later\r\n\r\nhi\r\n' }]);
        const listed = await waitFor('the deferral', async () => {
          const out = execFileSync(process.execPath, [MTA, 'queue', 'list', '-f', sender.configPath], { encoding: 'utf8' });
          return /x@soft\.test +deferred, .*: 4\d\d/.test(out) && out;
        });
        // smtp-sink's own soft rejection, not a connection failure.
        expect(listed).toMatch(/x@soft\.test +deferred, .*: 45\d (?!4\.4\.1)/);
        server.kill();
        server = sink(['-d', `${dumps}/%M.`]);
        // smtp-sink writes its dump file while it receives: wait for the whole message in it.
        const dumped = () => readdirSync(dumps).map((f) => readFileSync(path.join(dumps, f), 'utf8')).join('');
        expect(await waitFor('the delivery to smtp-sink', () => dumped().includes('Subject: later') && dumped(), 30_000)).toMatch(/\r?\n\r?\nhi\r?\n/);
      } finally {
        server.kill();
      }
    },
  );

  it('relay bounces mail for a null-MX domain at once with 556 5.1.10', async () => {
    const senderBox = mailbox(sender, 'example.org', 'sender3');
    await send([{ from: 'sender3@example.org', to: ['nobody@null.test'], body: 'Subject: to nowhere\r\n\r\nhi\r\n' }]);
    const [text] = await waitFor('the bounce', () => readdirSync(senderBox).length === 1 && files(senderBox));
    expect(text).toContain('Status: 5.1.10');
    expect(text).toContain('Diagnostic-Code: smtp; 556 5.1.10');
  });
});

describe('relay with three relay workers', () => {
  let three: RunningServer;
  beforeAll(async () => {
    three = await startServer({
      awaitGreeting: true,
      log: 'level = "info";',
      maildir: '',
      top: `dns = { servers = [ "${dns.server}" ]; timeout = 1; };\nrelay = { workers = 3; port = ${mxPort}; tls = "none"; retry_min_interval = 1; };`,
    });
  });
  afterAll(async () => {
    await three?.stop();
  });

  it('relay workers share the destinations: each domain gets one session, and every message arrives once', async () => {
    const gina = mailbox(mx, 'fine.test', 'gina');
    const hank = mailbox(mx, 'implicit.test', 'hank');
    // fine.test and implicit.test belong to different relay workers (relay/split.ts ownerOf), so
    // the runner in worker 0 hands at least one of them to another worker through the supervisor.
    // The MX logs the sender, not the recipients: each domain's mail has its own sender.
    const messages = Array.from({ length: 24 }, (_, i) => ({
      from: i % 3 === 0 ? 'to-hank@example.org' : 'to-gina@example.org',
      to: [i % 3 === 0 ? 'hank@implicit.test' : 'gina@fine.test'],
      body: `Subject: w${i}\r\n\r\nbody ${i}\r\n`,
    }));
    const before = logLines(mx.output()).length;
    expect((await send(messages, three)).every((r) => r.startsWith('250 '))).toBe(true);
    await waitFor('24 deliveries', () => readdirSync(gina).length === 16 && readdirSync(hank).length === 8);
    const accepted = await waitFor('24 log lines', () => {
      const lines = logLines(mx.output()).slice(before).filter((l) => l.msg === 'message accepted' && /^to-(gina|hank)@/.test(String(l.from)));
      return lines.length >= 24 && lines;
    });
    const sessionsOf = (from: string) => new Set(accepted.filter((l) => l.from === from).map((l) => l.sid));
    expect(sessionsOf('to-gina@example.org').size).toBe(1);
    expect(sessionsOf('to-hank@example.org').size).toBe(1);
    // The attempts were made by more than one relay worker process.
    const attempts = await waitFor('24 relay attempts', () => {
      const lines = logLines(three.output()).filter((l) => l.msg === 'relay attempt');
      return lines.length >= 24 && lines;
    });
    expect(new Set(attempts.map((l) => l.pid)).size).toBe(2);
    expect(accepted).toHaveLength(24);
  });
});
