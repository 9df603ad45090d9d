// Rates and slow clients against the built server (two SMTP workers), each hit by a real client
// from its own loopback address while swaks, from another, is still served: max_connection_rate
// (421 4.7.0 from the supervisor), max_message_rate (450 4.7.1 at MAIL, counted across workers),
// min_data_rate (421 4.4.2 for a slow drip) and greeting_delay (554 5.5.0 for an early talker).
// Small configured limits make each hit quick; nothing asserts how long anything took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, newFolder } from '../helpers/maildir.js';
import { runProgram, runPython, shouldRunWith } from '../helpers/peers.js';
import { logLines, waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const SWAKS = '/usr/bin/swaks';
const peersPresent = shouldRunWith(SWAKS, 'rate tests') && shouldRunWith('python3', 'rate tests');

/** swaks from `source` (its own address, so no limit of another test's address applies to it). */
async function servedFrom(server: RunningServer, source: string, subject: string): Promise<void> {
  const r = await runProgram(SWAKS, ['--server', '127.0.0.1', '--port', String(server.port), '--local-interface', source, '--from', 'sender@client.test', '--to', 'other@example.org', '--helo', 'other.test', '--header', `Subject: ${subject}`], { timeoutMs: 30_000 });
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

const linesOf = (server: RunningServer, msg: string) => logLines(server.output()).filter((l) => l.msg === msg);

describe.skipIf(!peersPresent)('rates and slow clients', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // Readiness is a plain connect from 127.0.0.1, which no test below uses: it counts toward nothing here.
    server = await startServer({ server: 'workers = 2; max_connection_rate = 3; max_message_rate = 2; min_data_rate = 1000; timeouts = { data_block = 2; };' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('the fourth connection in a minute from one address gets 421 4.7.0 and one log line; others are served', async () => {
    const out = await runPython<[number, string][]>(
      `
import json, smtplib, sys
out = []
for i in range(4):
    try:
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.test', timeout=30, source_address=('127.0.0.4', 0))
        out.append([220, ''])
        s.quit()
    except smtplib.SMTPConnectError as e:
        out.append([e.smtp_code, e.smtp_error.decode()])
print(json.dumps(out))`,
      [server.port],
    );
    expect(out).toEqual([[220, ''], [220, ''], [220, ''], [421, '4.7.0 mx.test Error: too many connections from you']]);
    await servedFrom(server, '127.0.0.3', 'while-4-is-refused');
    const refused = await waitFor('the refusal log line', () => linesOf(server, 'connection refused: rate limit'));
    expect(refused.map((l) => l.ip)).toEqual(['127.0.0.4']);
  });

  it('the third message in a minute from one address gets 450 4.7.1 at MAIL, counted across both workers', async () => {
    const session = (script: string) =>
      runPython<unknown>(
        `
import json, smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.test', timeout=30, source_address=('127.0.0.5', 0))
msg = b'Subject: rate\\r\\n\\r\\nhello\\r\\n'
${script}
s.quit()`,
        [server.port],
      );
    const acceptedFrom5 = () => logLines(server.output()).filter((l) => l.msg === 'message accepted' && l.ip === '127.0.0.5');
    expect(await session("print(json.dumps(s.sendmail('s@client.test', ['rate@example.org'], msg)))")).toEqual({});
    // Whichever worker the kernel wakes first accepts: the one that took the first session is
    // stopped, so the other must take the second.
    const [first] = await waitFor('the first message', () => acceptedFrom5().length === 1 && acceptedFrom5());
    const firstWorker = Number(first?.pid);
    process.kill(firstWorker, 'SIGSTOP');
    try {
      const out = await session(`
out = {'second': s.sendmail('s@client.test', ['rate@example.org'], msg)}
try:
    s.sendmail('s@client.test', ['rate@example.org'], msg)
    out['third'] = 'accepted'
except smtplib.SMTPSenderRefused as e:
    out['third'] = [e.smtp_code, e.smtp_error.decode()]
print(json.dumps(out))`);
      expect(out).toEqual({ second: {}, third: [450, '4.7.1 Error: too much mail from 127.0.0.5'] });
    } finally {
      process.kill(firstWorker, 'SIGCONT');
    }
    const workers = acceptedFrom5().map((l) => Number(l.pid));
    expect(workers).toHaveLength(2);
    expect(workers[1]).not.toBe(firstWorker);
    await servedFrom(server, '127.0.0.6', 'while-5-is-throttled');
    const refused = await waitFor('the rate log line', () => linesOf(server, 'message rate limit exceeded'));
    expect(refused.map((l) => l.ip)).toEqual(['127.0.0.5']);
  });

  it('a client dripping message data below min_data_rate is cut with 421 4.4.2 and its message dropped', async () => {
    const c = await RawClient.connect(server.port, '127.0.0.1', '127.0.0.7');
    let drip: NodeJS.Timeout | undefined;
    try {
      expect((await c.reply()).code).toBe(220);
      for (const [line, code] of [['EHLO drip.test', 250], ['MAIL FROM:<s@client.test>', 250], ['RCPT TO:<drip@example.org>', 250], ['DATA', 354]] as const) {
        await c.send(`${line}\r\n`);
        expect((await c.reply()).code).toBe(code);
      }
      // 10 bytes every 100 ms, a tenth of min_data_rate: each write would restart a plain data_block timer.
      drip = setInterval(() => void c.send('xxxxxxxxxx').catch(() => undefined), 100);
      await servedFrom(server, '127.0.0.8', 'while-7-drips');
      expect((await c.reply()).last).toBe('421 4.4.2 mx.test Error: data rate too low');
      await c.closed();
    } finally {
      clearInterval(drip);
      c.close();
    }
    // Worker log lines reach the supervisor's log through a pipe: wait for it, do not assume it.
    const cut = await waitFor('the data rate log line', () => linesOf(server, 'data rate too low').length > 0 && linesOf(server, 'data rate too low'));
    expect(cut.map((l) => l.ip)).toEqual(['127.0.0.7']);
    expect(listFiles(newFolder(`${server.dir}/mail`, 'drip@example.org'))).toEqual([]);
  });
});

describe.skipIf(!peersPresent)('early talkers', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ server: 'greeting_delay = 1;' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('a client that talks before the greeting gets 554 5.5.0 in its place and is closed; a patient one is served', async () => {
    const c = await RawClient.connect(server.port, '127.0.0.1', '127.0.0.9');
    try {
      await c.send('EHLO early.test\r\nMAIL FROM:<spam@client.test>\r\n');
      expect((await c.reply()).last).toBe('554 5.5.0 mx.test Error: SMTP protocol violation: talking before the greeting');
      await c.closed();
    } finally {
      c.close();
    }
    await servedFrom(server, '127.0.0.3', 'patient');
    const refused = await waitFor('the early talker log line', () => linesOf(server, 'early talker refused').length > 0 && linesOf(server, 'early talker refused'));
    expect(refused.map((l) => l.ip)).toEqual(['127.0.0.9']);
  });
});
