// The relay against real Postfix MX hosts on a test net (test/helpers/testnet.ts). Each MX is a
// host of its own: a network namespace joined to the root namespace by a veth pair, so every
// Postfix listens on port 25 of its own address (10.77.N.2, or fd77:N::2 for the IPv6-only host),
// as on the Internet, and its log shows which address a connection came from (mta's, 10.77.N.1).
// mta runs in the root namespace with the default relay.port 25 and asks the DNS server of
// test/helpers/dns-server.ts (on loopback) for MX, A and AAAA records. The hosts:
//   one, two, three  plain MXes (one.test; two.test and bare.test, which has no MX but an A
//                    record; three.test and backup.test, whose first MX is dead)
//   flaky            stopped and started, and answers 450 to listed recipients (an access map)
//   six              IPv6 only: six.test's MX has an AAAA record and no A record
//   dead             no listener: connections are refused
//   plain            does not offer 8BITMIME, and announces SIZE 200000
//   secure           STARTTLS with a self-signed certificate
//   slow             sleeps a second before answering each final dot, for the crash test
// A second mta on 127.0.0.x (relay.e2e.test.ts) cannot stand in for these: Postfix is the MX
// mta meets in the world, and only separate hosts let several MXes listen on port 25 at once.
// Four mtas run: the one under test (tls "may", two relay workers that must still open one
// session per MX between them), and one each with a short max_queue_lifetime,
// tls "verify", and to be SIGKILLed. Nothing leaves the machine: the namespaces reach only the
// root namespace.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type ZoneRecord } from '../helpers/dns-server.js';
import { findProgram, runPython, shouldRunDespite } from '../helpers/peers.js';
import { logLines, processTree, waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { MTA, type RunningServer, startServer } from '../helpers/server.js';
import { type Postfix, type PostfixLogLine, type PostfixSession, type TestHost, TestNet, testNetProblem } from '../helpers/testnet.js';

/** Why these tests cannot run here: the test net's needs, and python3 for reading bounces. */
function netProblem(): string | undefined {
  return testNetProblem() ?? (findProgram('python3') ? undefined : 'peer "python3" is not installed (install python3)');
}

const canRun = shouldRunDespite(netProblem(), 'the relay test net (network namespaces, Postfix)');

let net: TestNet;
let dns: TestDnsServer;
let mta: RunningServer; // the mta under test (two relay workers), and three more for single tests:
let short: RunningServer; // max_queue_lifetime = 2
let strict: RunningServer; // tls = "verify"
let victim: RunningServer; // SIGKILLed in the middle of a session
const restarted: RunningServer[] = [];
const hosts: Record<string, TestHost> = {};
const mx: Record<string, Postfix> = {};
let hasFailed = false;

/** The SIZE the plain host announces: far above the 8-bit test's message, below the SIZE test's. */
const PLAIN_SIZE_LIMIT = 200_000;

/** The Postfix of a host. */
function pf(name: string): Postfix {
  const postfix = mx[name];
  if (!postfix) throw new Error(`No Postfix on host "${name}"`);
  return postfix;
}

/** The relay settings of every mta here: retries a second apart, at most two. */
const RELAY = 'retry_min_interval = 1; retry_max_interval = 2;';

/** The slow host's extra settings: a second's pause before the reply to each final dot. */
const SLOW = { smtpd_end_of_data_restrictions: 'sleep 1, permit' };

/** Starts an mta asking the test net's DNS; `relay` is added inside `relay = { ... }`. */
async function startMta(relay = '', options: { dir?: string; port?: number } = {}): Promise<RunningServer> {
  return startServer({ ...options, awaitGreeting: true, log: 'level = "info";', top: `dns = { servers = [ "${dns.server}" ]; timeout = 1; };\nrelay = { ${RELAY} ${relay} };` });
}

/** A message to submit: `mail` may carry parameters after the reverse path (BODY=8BITMIME). */
interface Submission {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: string;
  readonly mailParams?: string;
}

/** Submits messages in one session from 127.0.0.2 (a relay client); every one must get 250. */
async function submit(server: RunningServer, messages: readonly Submission[]): Promise<void> {
  const c = await RawClient.connect(server.port, '127.0.0.1', '127.0.0.2');
  try {
    await c.reply();
    await c.send('EHLO client.test\r\n');
    await c.reply();
    for (const m of messages) {
      for (const line of [`MAIL FROM:<${m.from}>${m.mailParams ? ` ${m.mailParams}` : ''}`, ...m.to.map((t) => `RCPT TO:<${t}>`), 'DATA']) {
        await c.send(`${line}\r\n`);
        const r = await c.reply();
        if (r.code >= 400) throw new Error(`${line}: ${r.last}`);
      }
      await c.send(`${m.data}.\r\n`);
      const done = await c.reply();
      if (done.code !== 250) throw new Error(`end of data: ${done.last}`);
    }
    await c.send('QUIT\r\n');
    await c.reply();
  } finally {
    c.close();
  }
}

/** A small message with a unique X-Test-Id header and Message-ID. */
function message(from: string, to: string, id: string, body = `body of ${id}`): Submission {
  return { from, to: [to], data: `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${id}\r\nMessage-ID: <${id}@client.test>\r\nX-Test-Id: ${id}\r\n\r\n${body}\r\n` };
}

/**
 * Submits `count` messages `<prefix>-<i>` for ida@slow.test through `server`; returns their ids,
 * and a reader of the ids that have arrived at `slow` so far (a repeat listed again).
 */
async function sendToSlow(server: RunningServer, slow: Postfix, prefix: string, count: number): Promise<{ ids: string[]; arrived: () => string[] }> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await submit(server, ids.map((id) => message('sender@example.org', 'ida@slow.test', id)));
  return { ids, arrived: () => testIds(slow.messages('ida@slow.test')).filter((id) => id.startsWith(`${prefix}-`)) };
}

/** How many times each id arrived. */
function arrivals(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** The X-Test-Id of each message in a list of Maildir files. */
function testIds(files: readonly string[]): string[] {
  return files.map((f) => /^X-Test-Id: (.*)$/m.exec(readFileSync(f, 'utf8'))?.[1] ?? `(none in ${f})`);
}

/** The sessions from mta (the root side of the host's link) logged since `mark`. */
function mtaSessions(postfix: Postfix, mark: number): PostfixSession[] {
  const from = [postfix.host.peerIpv4, postfix.host.peerIpv6];
  return postfix.sessions(mark).filter((s) => from.includes(s.client));
}

/**
 * The X-Test-Ids of the messages Postfix queued in the smtpd session that ended with `disconnect`,
 * in order: smtpd logs `QUEUEID: client=...`, cleanup `QUEUEID: message-id=<ID@client.test>`.
 */
function takenIn(postfix: Postfix, disconnect: PostfixLogLine): string[] {
  const lines = postfix.logLines();
  const end = lines.findIndex((l) => l.pid === disconnect.pid && l.text === disconnect.text && l.atS === disconnect.atS);
  let start = end;
  while (start > 0 && !(lines[start]?.pid === disconnect.pid && lines[start]?.text.startsWith('connect from '))) start--;
  const queueIds = lines.slice(start, end).flatMap((l) => (l.pid === disconnect.pid ? (/^(\w+): client=/.exec(l.text)?.[1] ?? []) : []));
  return queueIds.map((q) => lines.map((l) => new RegExp(`^${q}: message-id=<(.*)@client\\.test>`).exec(l.text)?.[1]).find(Boolean) ?? `(no message-id for ${q})`);
}

/** mta's log lines with a given message. */
function mtaLog(server: RunningServer, msg: string): Record<string, unknown>[] {
  return logLines(server.output()).filter((l) => l.msg === msg);
}

/** `mta queue list` of a server. */
function queueList(server: RunningServer): string {
  return execFileSync(process.execPath, [MTA, 'queue', 'list', '-f', server.configPath], { encoding: 'utf8' });
}

/** Waits until mta's queue is empty and then each Postfix's: all that was sent is in the Maildirs. */
async function drained(server: RunningServer, postfixes: readonly Postfix[]): Promise<void> {
  await waitFor('mta\'s queue to empty', () => /Mail queue is empty/.test(queueList(server)));
  for (const p of postfixes) await waitFor(`the queue of ${p.host.name} to empty`, () => p.isQueueEmpty());
}

/** The Maildir `new/` folder of a local user of an mta. */
function localNew(server: RunningServer, address: string): string {
  const [local = '', domain = ''] = address.split('@');
  return path.join(server.dir, 'mail', domain, local, 'new');
}

/** Waits for the bounces (one file each) in a local sender's Maildir on an mta. */
async function bounces(server: RunningServer, sender: string, count = 1): Promise<string[]> {
  const dir = localNew(server, sender);
  return waitFor(`${count} bounce(s) for ${sender}`, () => {
    const files = existsSync(dir) ? readdirSync(dir) : [];
    return files.length >= count && files.map((f) => path.join(dir, f));
  });
}

interface Dsn {
  type: string;
  parts: string[];
  recipients: { recipient: string; action: string; status: string; diagnostic: string }[];
  returnPath: string;
}

/** Parses a bounce with Python's email package: its MIME structure and per-recipient fields. */
function parseDsn(file: string): Promise<Dsn> {
  return runPython<Dsn>(
    `import email, json, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
parts = [m.get_content_type()] + [p.get_content_type() for p in m.iter_parts()]
status = [p for p in m.walk() if p.get_content_type() == 'message/delivery-status'][0]
blocks = status.get_payload()[1:]
print(json.dumps({'type': m.get_content_type(), 'parts': parts, 'returnPath': m['Return-Path'],
  'recipients': [{'recipient': b['Final-Recipient'], 'action': b['Action'], 'status': b['Status'], 'diagnostic': b['Diagnostic-Code']} for b in blocks]}))`,
    [file],
  );
}

beforeAll(async () => {
  if (!canRun) return;
  // Under CI the tests run whatever is missing: fail here, with the reason.
  const problem = netProblem();
  if (problem) throw new Error(problem);
  net = new TestNet();
  const names = ['one', 'two', 'three', 'flaky', 'dead', 'plain', 'secure', 'slow'];
  const added = await Promise.all([...names.map((name) => net.addHost(name)), net.addHost('six', { ipv4: false, ipv6: true })]);
  for (const host of added) hosts[host.name] = host;
  const h = (name: string) => hosts[name] as TestHost;
  const mxOf = (domain: string, host: string): ZoneRecord[] => [
    { name: domain, type: 'MX', exchange: `mx.${domain}`, priority: 10 },
    { name: `mx.${domain}`, type: 'A', address: h(host).ipv4 ?? '' },
  ];
  dns = await startDnsServer([
    ...['one', 'two', 'three', 'flaky', 'plain', 'secure', 'slow'].flatMap((name) => mxOf(`${name}.test`, name)),
    // No MX: the domain's own address is its mail host (RFC 5321 5.1, implicit MX).
    { name: 'bare.test', type: 'A', address: h('two').ipv4 ?? '' },
    // An MX with an AAAA record only.
    { name: 'six.test', type: 'MX', exchange: 'mx.six.test', priority: 10 },
    { name: 'mx.six.test', type: 'AAAA', address: h('six').ipv6 ?? '' },
    // The first MX refuses connections (a host with no listener); the second takes the mail.
    { name: 'backup.test', type: 'MX', exchange: 'mx.dead.test', priority: 10 },
    { name: 'backup.test', type: 'MX', exchange: 'mx.three.test', priority: 20 },
    { name: 'mx.dead.test', type: 'A', address: h('dead').ipv4 ?? '' },
    // RFC 7505: no mail at all.
    { name: 'null.test', type: 'MX', exchange: '', priority: 0 },
  ]);
  const certDir = mkdtempSync(path.join(os.tmpdir(), 'mta-relay-net-cert-'));
  // A self-signed certificate naming the MX host itself: the only fault "verify" can find is its issuer.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mx.secure.test', '-addext', 'subjectAltName=DNS:mx.secure.test',
    '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
  // Every Postfix and every mta at once: each mta needs only the DNS server to start.
  const mtas = Promise.allSettled([startMta('tls = "may"; workers = 2;'), startMta('tls = "none"; max_queue_lifetime = 2;'), startMta('tls = "verify";'), startMta('tls = "none";')]);
  const postfixes = Promise.all([
    net.startPostfix(h('one'), { mailboxes: ['bulk@one.test', 'frank@one.test'] }),
    net.startPostfix(h('two'), { mailboxes: ['bob@two.test', 'bea@two.test', 'carol@bare.test'] }),
    net.startPostfix(h('three'), { mailboxes: ['carl@three.test', 'dave@backup.test'] }),
    net.startPostfix(h('flaky'), {
      mailboxes: ['erin@flaky.test', 'busy@flaky.test', 'never@flaky.test'],
      files: { access: 'busy@flaky.test 450 4.2.1 Mailbox busy, try again later\nnever@flaky.test 450 4.2.1 Mailbox busy, try again later\n' },
      settings: { smtpd_recipient_restrictions: `check_recipient_access texthash:\${config_directory}/access, permit` },
    }),
    net.startPostfix(h('six'), { mailboxes: ['fay@six.test'] }),
    net.startPostfix(h('plain'), { mailboxes: ['gil@plain.test'], settings: { smtpd_discard_ehlo_keywords: '8bitmime', message_size_limit: String(PLAIN_SIZE_LIMIT) } }),
    net.startPostfix(h('secure'), {
      mailboxes: ['hal@secure.test'],
      files: { 'cert.pem': readFileSync(path.join(certDir, 'cert.pem'), 'utf8'), 'key.pem': readFileSync(path.join(certDir, 'key.pem'), 'utf8') },
      settings: { smtpd_tls_security_level: 'may', smtpd_tls_cert_file: '${config_directory}/cert.pem', smtpd_tls_key_file: '${config_directory}/key.pem' },
    }),
    net.startPostfix(h('slow'), { mailboxes: ['ida@slow.test'], settings: SLOW }),
  ]);
  // Whatever fails, the mtas that did start are assigned, so that afterAll stops them.
  const [[started], servers] = await Promise.all([Promise.allSettled([postfixes]), mtas]);
  rmSync(certDir, { recursive: true, force: true });
  [mta, short, strict, victim] = servers.map((r) => (r.status === 'fulfilled' ? r.value : undefined)) as [RunningServer, RunningServer, RunningServer, RunningServer];
  for (const r of [started, ...servers]) if (r?.status === 'rejected') throw r.reason;
  for (const p of started?.status === 'fulfilled' ? started.value : []) mx[p.host.name] = p;
}, 120_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') hasFailed = true;
});

afterAll(async () => {
  const servers = [mta, short, strict, victim, ...restarted].filter((s) => s !== undefined);
  await Promise.all(servers.map((s) => s.stop()));
  await dns?.close();
  await net?.destroy(hasFailed);
  if (hasFailed) for (const s of new Set(servers)) process.stdout.write(`relay-net: kept mta dir ${s.dir}\n`);
}, 60_000);

describe.skipIf(!canRun)('relay on a test net of Postfix MX hosts', () => {
  it('relay sends 50 messages for one MX over one connection while three MX hosts are served in parallel', async () => {
    const marks = await Promise.all(['one', 'two', 'three'].map((n) => pf(n).settle()));
    const batch: Submission[] = [];
    for (let i = 0; i < 50; i++) {
      batch.push(message('sender@example.org', 'bulk@one.test', `bulk-${i}`));
      if (i % 5 === 0) batch.push(message('sender@example.org', 'bob@two.test', `two-${i}`), message('sender@example.org', 'carl@three.test', `three-${i}`));
    }
    await submit(mta, batch);
    const [one, two, three] = [pf('one'), pf('two'), pf('three')];
    await waitFor('50 messages in bulk@one.test', () => one.messages('bulk@one.test').length === 50);
    await waitFor('10 messages each at two and three', () => two.messages('bob@two.test').length === 10 && three.messages('carl@three.test').length === 10);
    expect(new Set(testIds(one.messages('bulk@one.test'))).size).toBe(50);
    // Each host saw exactly one session from mta, across both of its relay workers; it ends once
    // mta's idle session is closed (QUIT).
    const sessions = await waitFor('the three sessions to end', () => {
      const each = [one, two, three].map((p, i) => mtaSessions(p, marks[i] ?? 0));
      return each.every((s) => s.length >= 1 && s.every((x) => x.disconnect)) && each;
    });
    expect(sessions.map((s) => s.length)).toEqual([1, 1, 1]);
    const [a, b, c] = sessions.map((s) => s[0] as PostfixSession);
    expect(a?.disconnect?.text).toMatch(/ ehlo=1 mail=50 rcpt=50 data=50 .*quit=1/);
    // Overlap: every session began before each of the others ended. Postfix logs whole seconds, so
    // a strictly smaller second proves it; the same second would prove nothing (and fail here).
    for (const [x, y] of [[a, b], [a, c], [b, a], [b, c], [c, a], [c, b]] as const) {
      expect(x?.connect.atS).toBeLessThan(y?.disconnect?.atS ?? 0);
    }
  });

  it('relay retries an MX that is down at the configured pace and delivers once it is up', async () => {
    const flaky = pf('flaky');
    await flaky.stop();
    let deferrals: Record<string, unknown>[];
    try {
      const before = mtaLog(mta, 'delivery deferred').length;
      // bea@two.test, on a host that is up, gets the message at once, and only once.
      await submit(mta, [{ ...message('sender@example.org', 'erin@flaky.test', 'down-1'), to: ['erin@flaky.test', 'bea@two.test'] }]);
      deferrals = await waitFor('three deferrals', () => {
        const lines = mtaLog(mta, 'delivery deferred').slice(before).filter((l) => l.rcpt === 'erin@flaky.test');
        return lines.length >= 3 && lines;
      });
      expect(queueList(mta)).toMatch(/erin@flaky\.test +deferred, .*451 4\.4\.1 .*mx\.flaky\.test\[10\.77\.\d+\.2\]:25: .*ECONNREFUSED/);
    } finally {
      await flaky.start();
    }
    // The retries kept the pace: no sooner than retry_min_interval (1 s), then doubled up to
    // retry_max_interval (2 s).
    const times = deferrals.map((l) => Date.parse(String(l.time)));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1000);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(2000);
    await waitFor('the delivery once the MX is up', () => flaky.messages('erin@flaky.test').length === 1, 20_000);
    await drained(mta, [flaky, pf('two')]);
    expect(testIds(pf('two').messages('bea@two.test'))).toEqual(['down-1']);
  });

  it('relay retries a 450 recipient at the configured pace and delivers once Postfix takes it', async () => {
    const flaky = pf('flaky');
    const before = mtaLog(mta, 'delivery deferred').length;
    // erin@, in the same transaction, is accepted at once: the retries are for busy@ alone.
    await submit(mta, [{ ...message('sender@example.org', 'busy@flaky.test', 'busy-1'), to: ['busy@flaky.test', 'erin@flaky.test'] }]);
    const deferrals = await waitFor('two deferrals', () => {
      const lines = mtaLog(mta, 'delivery deferred').slice(before).filter((l) => l.rcpt === 'busy@flaky.test');
      return lines.length >= 2 && lines;
    });
    expect(Date.parse(String(deferrals[1]?.time)) - Date.parse(String(deferrals[0]?.time))).toBeGreaterThanOrEqual(1000);
    expect(queueList(mta)).toMatch(/busy@flaky\.test +deferred, .*: 450 4\.2\.1 .*Mailbox busy/);
    // The map without busy@, and a reload: new sessions take it (an open one keeps the old map).
    await flaky.rewriteFile('access', 'never@flaky.test 450 4.2.1 Mailbox busy, try again later\n');
    await waitFor('the delivery after the reload', () => flaky.messages('busy@flaky.test').length === 1, 20_000);
    await drained(mta, [flaky]);
    expect(testIds(flaky.messages('erin@flaky.test')).filter((id) => id === 'busy-1')).toEqual(['busy-1']);
  });

  it('relay bounces a recipient still deferred after max_queue_lifetime as an RFC 3464 report', async () => {
    await submit(short, [message('old@example.org', 'never@flaky.test', 'expire-1')]);
    const [file] = await bounces(short, 'old@example.org');
    const dsn = await parseDsn(file ?? '');
    expect(dsn).toMatchObject({ type: 'multipart/report', returnPath: '<>' });
    expect(dsn.parts).toEqual(['multipart/report', 'text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    expect(dsn.recipients).toEqual([expect.objectContaining({ recipient: 'rfc822; never@flaky.test', action: 'failed', status: '4.2.1' })]);
    expect(dsn.recipients[0]?.diagnostic).toMatch(/^smtp; 450 4\.2\.1 .*Mailbox busy/);
    // Deferred first, and failed only once the lifetime was over: more than one attempt.
    expect(mtaLog(short, 'delivery deferred').filter((l) => l.rcpt === 'never@flaky.test').length).toBeGreaterThanOrEqual(1);
    expect(mtaLog(short, 'delivery failed').filter((l) => l.rcpt === 'never@flaky.test')).toHaveLength(1);
    await short.stop();
  });

  it('relay bounces a recipient Postfix refuses with 550 at once and delivers the other', async () => {
    await submit(mta, [{ ...message('half@example.org', 'frank@one.test', 'half-1'), to: ['frank@one.test', 'ghost@one.test'] }]);
    await waitFor('frank', () => pf('one').messages('frank@one.test').length === 1);
    const [file] = await bounces(mta, 'half@example.org');
    const dsn = await parseDsn(file ?? '');
    expect(dsn).toMatchObject({ type: 'multipart/report', returnPath: '<>' });
    expect(dsn.recipients).toEqual([expect.objectContaining({ recipient: 'rfc822; ghost@one.test', action: 'failed', status: '5.1.1' })]);
    expect(dsn.recipients[0]?.diagnostic).toMatch(/^smtp; 550 5\.1\.1 .*User unknown in virtual mailbox table/);
    // At once: a single attempt, no deferral.
    expect(mtaLog(mta, 'delivery deferred').filter((l) => l.rcpt === 'ghost@one.test')).toEqual([]);
  });

  it('relay follows DNS: null MX bounces with 556 5.1.10, an A record is the implicit MX, AAAA only goes over IPv6, a dead first MX falls to the second', async () => {
    const sixMark = await pf('six').settle();
    await submit(mta, [
      message('dns@example.org', 'nobody@null.test', 'null-1'),
      message('sender@example.org', 'carol@bare.test', 'bare-1'),
      message('sender@example.org', 'fay@six.test', 'six-1'),
      message('sender@example.org', 'dave@backup.test', 'backup-1'),
    ]);
    const [file] = await bounces(mta, 'dns@example.org');
    const dsn = await parseDsn(file ?? '');
    expect(dsn.recipients).toEqual([expect.objectContaining({ recipient: 'rfc822; nobody@null.test', action: 'failed', status: '5.1.10' })]);
    expect(dsn.recipients[0]?.diagnostic).toMatch(/^smtp; 556 5\.1\.10 /);
    await waitFor('carol@bare.test', () => pf('two').messages('carol@bare.test').length === 1);
    await waitFor('fay@six.test', () => pf('six').messages('fay@six.test').length === 1);
    expect(mtaSessions(pf('six'), sixMark).map((s) => s.client)).toEqual([hosts.six?.peerIpv6]);
    await waitFor('dave@backup.test', () => pf('three').messages('dave@backup.test').length === 1);
    const failed = mtaLog(mta, 'relay host failed').filter((l) => l.domain === 'backup.test');
    expect(failed[0]).toMatchObject({ host: 'mx.dead.test', address: hosts.dead?.ipv4 });
    expect(String(failed[0]?.problem)).toMatch(/ECONNREFUSED/);
  });

  it('relay converts an 8-bit message for a Postfix without 8BITMIME, and it decodes to the original', async () => {
    const text = 'Grüße aus Köln — naïve café, 日本語\nA line with = and trailing space \n' + 'é'.repeat(100) + '\n';
    const data = `From: <sender@example.org>\r\nTo: <gil@plain.test>\r\nSubject: 8-bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text.replace(/\n/g, '\r\n')}`;
    await submit(mta, [{ from: 'sender@example.org', to: ['gil@plain.test'], data, mailParams: 'BODY=8BITMIME' }]);
    const [file] = await waitFor('gil@plain.test', () => pf('plain').messages('gil@plain.test').length === 1 && pf('plain').messages('gil@plain.test'));
    const raw = readFileSync(file ?? '');
    expect(raw.some((byte) => byte > 127)).toBe(false);
    const part = await runPython<{ cte: string; hex: string }>(
      `import email, json, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
print(json.dumps({'cte': m.get('Content-Transfer-Encoding', ''), 'hex': m.get_payload(decode=True).hex()}))`,
      [file ?? ''],
    );
    expect(part.cte).toMatch(/^(quoted-printable|base64)$/i);
    // Byte for byte: a base64 body keeps the CRLF line ends it was sent with; quoted-printable
    // lines end as the Maildir file's lines do, with LF.
    const decoded = Buffer.from(part.hex, 'hex');
    const original = Buffer.from(decoded.includes('\r\n') ? text.replace(/\n/g, '\r\n') : text, 'utf8');
    expect(decoded.equals(original)).toBe(true);
  });

  it('relay bounces a message larger than the SIZE Postfix announces at once, without sending it', async () => {
    const plain = pf('plain');
    const mark = await plain.settle();
    const big = message('big@example.org', 'gil@plain.test', 'too-big', `${'x'.repeat(998)}\r\n`.repeat(250));
    await submit(mta, [big]);
    const [file] = await bounces(mta, 'big@example.org');
    const dsn = await parseDsn(file ?? '');
    expect(dsn.recipients).toEqual([expect.objectContaining({ recipient: 'rfc822; gil@plain.test', action: 'failed', status: '5.3.4' })]);
    expect(dsn.recipients[0]?.diagnostic).toMatch(new RegExp(`^smtp; 552 5\\.3\\.4 .*${PLAIN_SIZE_LIMIT}`));
    // mta opened a session (EHLO told it the limit) and never began a transaction in it.
    const [session] = await waitFor('the session to end', () => {
      const sessions = mtaSessions(plain, mark);
      return sessions.length > 0 && sessions.every((x) => x.disconnect) && sessions;
    });
    expect(session?.disconnect?.text).toMatch(/ ehlo=1 /);
    expect(session?.disconnect?.text).not.toMatch(/ mail=/);
    expect(testIds(plain.messages('gil@plain.test'))).not.toContain('too-big');
  });

  it('relay with tls = "may" delivers over STARTTLS to a self-signed Postfix; "verify" defers naming the certificate problem', async () => {
    const secure = pf('secure');
    const mark = await secure.settle();
    await submit(mta, [message('sender@example.org', 'hal@secure.test', 'tls-may')]);
    await waitFor('hal@secure.test', () => secure.messages('hal@secure.test').length === 1);
    expect(secure.logLines(mark).map((l) => l.text)).toContainEqual(expect.stringMatching(new RegExp(`^Anonymous TLS connection established from \\S+\\[${hosts.secure?.peerIpv4}\\]: TLSv1\\.[23]`)));
    await submit(strict, [message('sender@example.org', 'hal@secure.test', 'tls-verify')]);
    const listed = await waitFor('the deferral', () => {
      const out = queueList(strict);
      return /hal@secure\.test +deferred, .*451 4\.4\.1 .*STARTTLS/.test(out) && out;
    });
    expect(listed).toMatch(/SELF_SIGNED|self[- ]signed/i);
    const [failed] = await waitFor('the failure in the log', () => mtaLog(strict, 'relay host failed').length > 0 && mtaLog(strict, 'relay host failed'));
    expect(failed).toMatchObject({ host: 'mx.secure.test', problem: expect.stringMatching(/SELF_SIGNED|self[- ]signed/i) });
    await strict.stop();
    expect(secure.messages('hal@secure.test')).toHaveLength(1);
  });

  it('relay defers, then delivers, what a relay worker was sending for the queue runner when it was SIGKILLed', { timeout: 90_000 }, async () => {
    // slow.test belongs to relay worker 1 of this mta's two (relay/split.ts ownerOf): worker 0,
    // which runs the queue, asks worker 1 through the supervisor for each of its messages.
    const slow = pf('slow');
    const { arrived: ours } = await sendToSlow(mta, slow, 'agent', 8);
    await waitFor('two deliveries before the kill', () => ours().length >= 2, 30_000);
    const [agent] = mtaLog(mta, 'worker started').filter((l) => l.relayWorker === '1/2');
    const pid = Number(agent?.pid);
    expect(processTree(mta.process.pid as number)).toContain(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('all 8 messages', () => new Set(ours()).size === 8, 60_000);
    // The questions the dead worker never answered were deferred (451 4.3.0) and asked again of its successor.
    expect(mtaLog(mta, 'delivery deferred').some((l) => l.rcpt === 'ida@slow.test' && l.code === 451)).toBe(true);
    expect(mtaLog(mta, 'worker started').filter((l) => l.relayWorker === '1/2').length).toBeGreaterThanOrEqual(2);
    await drained(mta, [slow]);
    // At most the one message in the killed session's hands may arrive twice.
    expect([...arrivals(ours()).values()].filter((n) => n > 1).length).toBeLessThanOrEqual(1);
  });

  it('relay loses nothing and repeats at most one message when the whole mta is SIGKILLed in the middle of a session', { timeout: 90_000 }, async () => {
    const slow = pf('slow');
    const { ids, arrived: ours } = await sendToSlow(victim, slow, 'crash', 20);
    // Postfix takes one message a second: kill once some are in, with the session in the middle of another.
    await waitFor('three deliveries before the kill', () => ours().length >= 3, 30_000);
    const mark = slow.mark();
    // The supervisor and every worker, by pid; one that ended meanwhile is already gone (ESRCH).
    for (const pid of processTree(victim.process.pid as number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await victim.stop('SIGKILL');
    // The killed session ended without QUIT.
    const [killed] = await waitFor('the killed session to end', () => {
      const ended = slow.logLines(mark).filter((l) => l.program === 'postfix/smtpd' && l.text.startsWith('disconnect from'));
      return ended.length > 0 && ended;
    });
    expect(killed?.text).not.toMatch(/quit=1/);
    // The rest at full speed, from an mta restarted on the same queue.
    await slow.reconfigure({});
    const again = await startMta('tls = "none";', { dir: victim.dir, port: victim.port });
    restarted.push(again);
    await waitFor('all 20 messages', () => new Set(ours()).size === 20, 60_000);
    // Everything mta sent was acknowledged; once Postfix's queue is empty, it is all in the Maildir.
    await drained(again, [slow]);
    const counts = arrivals(ours());
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    // Only the message whose 250 was lost with the kill may arrive twice: the last one Postfix
    // took in the killed session. Every message it took before was acknowledged, and must not.
    const repeated = [...counts].filter(([, n]) => n > 1);
    expect(repeated.length).toBeLessThanOrEqual(1);
    expect(repeated.every(([id, n]) => n === 2 && id === takenIn(slow, killed as PostfixLogLine).at(-1))).toBe(true);
    await again.stop();
  });
});
