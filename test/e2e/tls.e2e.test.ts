// TLS and AUTH against clients we did not write: swaks (--tls, --tlsc, --auth PLAIN|LOGIN),
// Python's smtplib (starttls() and SMTP_SSL, verifying our chain against a test CA made by
// openssl, login()), `openssl s_client -starttls smtp`, and raw bytes for what no client would do
// (STARTTLS with a pipelined RSET, garbage instead of a handshake, a stalled handshake).
// One server: port P (smtp, STARTTLS offered), a submission port and a submissions port.
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, newFolder, queuedIds, readMessage, readQueued, waitForFiles, waitUntil } from '../helpers/maildir.js';
import { runProgram, runPython, shouldRunWith } from '../helpers/peers.js';
import { logLines } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { freePort, type RunningServer, startServer } from '../helpers/server.js';
import { addUser, makeTestPki, type TestPki, tlsSettings } from '../helpers/tls.js';

const SWAKS = '/usr/bin/swaks';
// ASCII: Python's smtplib encodes AUTH PLAIN as ASCII (UTF-8 passwords are covered by unit tests).
const PASSWORD = 'c0rrect horse battery';
const LOGIN = 'alice@example.org';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe.skipIf(!shouldRunWith(SWAKS, 'TLS tests') || !shouldRunWith('openssl', 'TLS tests'))('tls', () => {
  let server: RunningServer;
  let pki: TestPki;
  let submission = 0;
  let submissions = 0;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-tls-'));
    chmodSync(dir, 0o755);
    pki = makeTestPki(dir);
    submission = await freePort();
    submissions = await freePort();
    server = await startServer({
      dir,
      awaitGreeting: true,
      extraListen: [`127.0.0.1:${submission}/submission`, `127.0.0.1:${submissions}/submissions`],
      top: `${tlsSettings(pki, true)}\nauth = { database = "${dir}/auth/users.db"; };`,
      server: 'max_errors = 50; timeouts = { tls_handshake = 2; };',
    });
    await addUser(server.configPath, LOGIN, PASSWORD, [LOGIN, '@example.net']);
  });

  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  function swaks(port: number, ...args: string[]) {
    return runProgram(SWAKS, ['--server', '127.0.0.1', '--port', String(port), '--helo', 'client.test', ...args], { timeoutMs: 30_000 });
  }

  const auth = (mechanism: 'PLAIN' | 'LOGIN') => ['--auth', mechanism, '--auth-user', LOGIN, '--auth-password', PASSWORD];

  async function delivered(address: string, subject: string) {
    const folder = newFolder(`${server.dir}/mail`, address);
    let found: ReturnType<typeof readMessage> | undefined;
    await waitUntil(() => {
      found = listFiles(folder).map(readMessage).find((m) => m.headers.includes(`Subject: ${subject}\n`));
      return found !== undefined;
    }, 20_000);
    if (!found) throw new Error(`no message "${subject}" in ${folder}`);
    return found;
  }

  function queued(queueId: string): string {
    return readQueued(`${server.dir}/queue`, queueId, 'data');
  }

  it('tls: port 25 offers STARTTLS and no AUTH before TLS, AUTH after it', async () => {
    const c = await RawClient.connect(server.port);
    await c.reply();
    await c.send('EHLO client.test\r\n');
    const before = await c.reply();
    expect(before.lines).toContain('STARTTLS');
    expect(before.lines.some((l) => l.startsWith('AUTH'))).toBe(false);
    await c.send('STARTTLS\r\n');
    expect((await c.reply()).last).toBe('220 2.0.0 Ready to start TLS');
    await c.startTls({ ca: readFileSync(pki.caCert), servername: 'mx.test', rejectUnauthorized: true });
    await c.send('EHLO client.test\r\n');
    const after = await c.reply();
    expect(after.lines).toContain('AUTH PLAIN LOGIN');
    expect(after.lines).not.toContain('STARTTLS');
    c.close();
  });

  it('tls: swaks --tls delivers locally over STARTTLS and Received says ESMTPS with protocol and cipher', async () => {
    const r = await swaks(server.port, '--tls', '--tls-verify', '--tls-ca-path', pki.caCert, '--from', 'x@example.net', '--to', 'bob@example.org', '--header', 'Subject: starttls-25');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/=== TLS started with cipher TLSv1\.3:/);
    const m = await delivered('bob@example.org', 'starttls-25');
    expect(m.received).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\) \(using TLSv1\.3 with cipher TLS_\w+\) by mx\.test \(mta\) with ESMTPS id /);
  });

  it('tls: swaks --tls --auth PLAIN on submission relays to a remote domain (queued, ESMTPSA)', async () => {
    const r = await swaks(submission, '--tls', ...auth('PLAIN'), '--from', LOGIN, '--to', 'carol@remote.test', '--header', 'Subject: submission-plain');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('235 2.7.0 Authentication successful');
    const queueId = /250 2\.0\.0 OK: queued as (\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(queuedIds(`${server.dir}/queue`)).toContain(queueId);
    expect(queued(queueId)).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.3 with cipher TLS_\w+\) by mx\.test \(mta\)\r\n\twith ESMTPSA id /);
  });

  it('tls: swaks --tlsc --auth LOGIN on submissions (implicit TLS) relays too', async () => {
    const r = await swaks(submissions, '--tlsc', ...auth('LOGIN'), '--from', 'someone@example.net', '--to', 'dave@remote.test', '--header', 'Subject: submissions-login');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/<~ +334 VXNlcm5hbWU6/);
    expect(r.stdout).toMatch(/<~ +235 2\.7\.0/);
    expect(r.stdout).toMatch(/<~ +250 2\.0\.0 OK: queued as /);
  });

  it('tls: an unauthenticated client on submission cannot send, before or after STARTTLS', async () => {
    const before = queuedIds(`${server.dir}/queue`).length;
    const plain = await swaks(submission, '--from', LOGIN, '--to', 'bob@example.org');
    expect(plain.code).not.toBe(0);
    expect(plain.stdout).toMatch(/<\*\* +530 5\.7\.0 Must issue a STARTTLS command first/);
    const tls = await swaks(submission, '--tls', '--from', LOGIN, '--to', 'bob@example.org');
    expect(tls.code).not.toBe(0);
    expect(tls.stdout).toMatch(/<~\* +530 5\.7\.0 Authentication required/);
    const implicit = await swaks(submissions, '--tlsc', '--from', LOGIN, '--to', 'bob@example.org');
    expect(implicit.stdout).toMatch(/<~\* +530 5\.7\.0 Authentication required/);
    expect(queuedIds(`${server.dir}/queue`)).toHaveLength(before);
  });

  it('tls: a logged-in user with a foreign MAIL FROM or the null sender is refused with 553 5.7.1', async () => {
    const foreign = await swaks(submission, '--tls', ...auth('PLAIN'), '--from', 'mallory@example.org', '--to', 'bob@remote.test');
    expect(foreign.code).not.toBe(0);
    expect(foreign.stdout).toMatch(/<~\* +553 5\.7\.1 <mallory@example\.org>: Sender address rejected: not owned by user alice@example\.org/);
    const bounce = await swaks(submission, '--tls', ...auth('PLAIN'), '--from', '<>', '--to', 'bob@remote.test');
    expect(bounce.stdout).toMatch(/<~\* +553 5\.7\.1 /);
  });

  it('tls: a wrong password gets 535 5.7.8; AUTH without TLS on port 25 gets 538 5.7.11', async () => {
    const wrong = await swaks(submission, '--tls', '--auth', 'PLAIN', '--auth-user', LOGIN, '--auth-password', 'wrong', '--from', LOGIN, '--to', 'x@remote.test');
    expect(wrong.stdout).toMatch(/<~\* +535 5\.7\.8 Authentication credentials invalid/);
    const c = await RawClient.connect(server.port);
    await c.reply();
    await c.send(`EHLO client.test\r\nAUTH PLAIN ${b64(`\0${LOGIN}\0${PASSWORD}`)}\r\n`);
    await c.reply();
    expect((await c.reply()).last).toBe('538 5.7.11 Encryption required for requested authentication mechanism');
    c.close();
  });

  it('tls: smtplib starttls() verifies our chain against the CA, login() and sendmail(); PLAIN and LOGIN', async () => {
    const out = await runPython<{ version: string; features: string[]; plain: [number, string]; login: [number, string]; refused: object }>(
      `
import json, smtplib, ssl, sys
port, ca, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
out = {}
s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=30)
s.starttls(context=ctx)
s.ehlo()
out['version'] = s.sock.version()
out['features'] = sorted(s.esmtp_features)
code, text = s.login(user, password)
out['plain'] = [code, text.decode()]
out['refused'] = s.sendmail(user, ['bob@example.org'], 'Subject: smtplib-starttls\\r\\n\\r\\nhello\\r\\n')
s.quit()
s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=30)
s.starttls(context=ctx)
s.ehlo()
s.esmtp_features['auth'] = 'LOGIN'
code, text = s.login(user, password)
out['login'] = [code, text.decode()]
s.quit()
print(json.dumps(out))
`,
      [submission, pki.caCert, LOGIN, PASSWORD],
    );
    expect(out.version).toBe('TLSv1.3');
    expect(out.features).toContain('auth');
    expect(out.features).not.toContain('starttls');
    expect(out.plain).toEqual([235, '2.7.0 Authentication successful']);
    expect(out.login).toEqual([235, '2.7.0 Authentication successful']);
    expect(out.refused).toEqual({});
    const m = await delivered('bob@example.org', 'smtplib-starttls');
    expect(m.received).toContain(' with ESMTPSA id ');
  });

  it('tls: smtplib SMTP_SSL verifies the implicit TLS port; SNI picks the sni.test certificate', async () => {
    const out = await runPython<{ code: number; sni: string; default: string; minimum: string }>(
      `
import json, smtplib, socket, ssl, sys
port, ca, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP_SSL('127.0.0.1', port, local_hostname='client.test', context=ctx, timeout=30)
code, text = s.login(user, password)
s.quit()
def subject(name):
    with socket.create_connection(('127.0.0.1', port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as tls:
            return dict(x[0] for x in tls.getpeercert()['subject'])['commonName']
old = ssl.create_default_context(cafile=ca)
old.minimum_version = ssl.TLSVersion.TLSv1
old.maximum_version = ssl.TLSVersion.TLSv1_1
try:
    with socket.create_connection(('127.0.0.1', port), timeout=30) as raw:
        old.wrap_socket(raw, server_hostname='mx.test')
    minimum = 'TLS 1.1 accepted'
except ssl.SSLError as e:
    minimum = 'refused'
print(json.dumps({'code': code, 'sni': subject('sni.test'), 'default': subject('mx.test'), 'minimum': minimum}))
`,
      [submissions, pki.caCert, LOGIN, PASSWORD],
    );
    expect(out).toEqual({ code: 235, sni: 'sni.test', default: 'mx.test', minimum: 'refused' });
  });

  it('tls: openssl s_client -starttls smtp verifies the chain, and TLS 1.1 is refused', async () => {
    const ok = await runProgram('openssl', ['s_client', '-starttls', 'smtp', '-connect', `127.0.0.1:${server.port}`, '-CAfile', pki.caCert, '-verify_return_error', '-brief', '-nocommands', '-ign_eof'], { input: 'QUIT\r\n' });
    const okText = ok.stdout + ok.stderr;
    expect(ok.code, okText).toBe(0);
    expect(okText).toMatch(/Verification: OK/);
    expect(okText).toMatch(/Protocol version: TLSv1\.3/);
    expect(okText).toContain('221 2.0.0');
    // -ign_eof: s_client waits for the server to answer QUIT and close, instead of closing at the end of its input.
    const tls12 = await runProgram('openssl', ['s_client', '-starttls', 'smtp', '-connect', `127.0.0.1:${server.port}`, '-tls1_2', '-brief', '-nocommands', '-ign_eof'], { input: 'QUIT\r\n' });
    expect(tls12.stdout + tls12.stderr).toMatch(/Protocol version: TLSv1\.2/);
    const tls11 = await runProgram('openssl', ['s_client', '-starttls', 'smtp', '-connect', `127.0.0.1:${server.port}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-brief', '-nocommands', '-ign_eof'], { input: 'QUIT\r\n' });
    expect(tls11.code).not.toBe(0);
    expect(tls11.stdout + tls11.stderr).not.toMatch(/Protocol version: TLSv1\.1/);
  });

  it('tls: STARTTLS\\r\\nRSET\\r\\n in one packet: the RSET is never answered, inside TLS or out (CVE-2011-0411)', async () => {
    const c = await RawClient.connect(server.port);
    await c.reply();
    await c.send('EHLO client.test\r\n');
    await c.reply();
    await c.send('STARTTLS\r\nRSET\r\n');
    expect((await c.reply()).last).toBe('220 2.0.0 Ready to start TLS');
    expect(c.unread).toBe('');
    await c.startTls({ servername: 'mx.test' });
    // Replies come in order: had the RSET been kept, its 250 would come before the NOOP's.
    await c.send('NOOP\r\n');
    expect((await c.reply()).last).toBe('250 2.0.0 OK');
    // The session was reset: EHLO again before MAIL.
    await c.send('MAIL FROM:<x@example.net>\r\n');
    expect((await c.reply()).last).toBe('503 5.5.1 Error: send HELO/EHLO first');
    c.close();
    // Worker log lines reach the supervisor's output a moment later.
    const isLogged = () => logLines(server.output()).some((l) => l.msg === 'discarded input pipelined after STARTTLS' && l.bytes === 6);
    expect(await waitUntil(isLogged)).toBe(true);
  });

  it('tls: a failed or stalled handshake is logged, never a crash, and the server serves on', async () => {
    // Plain text instead of a ClientHello, after STARTTLS and on the implicit TLS port.
    const c = await RawClient.connect(server.port);
    await c.reply();
    await c.send('EHLO client.test\r\n');
    await c.reply();
    await c.send('STARTTLS\r\n');
    await c.reply();
    await c.send('EHLO this is not TLS\r\n\r\n');
    await c.closed();
    const implicit = await RawClient.connect(submissions);
    await implicit.send('EHLO client.test\r\n');
    await implicit.closed();
    // No ClientHello at all: cut after server.timeouts.tls_handshake (2 s here).
    const silent = await RawClient.connect(submissions);
    await silent.closed(20_000);
    const failures = () => logLines(server.output()).filter((l) => l.msg === 'TLS handshake failed');
    const isLogged = await waitUntil(() => failures().length >= 3 && failures().some((l) => String(l.reason).includes('no handshake within 2 s')));
    expect(isLogged, JSON.stringify(failures())).toBe(true);
    const r = await swaks(submissions, '--tlsc', ...auth('PLAIN'), '--from', LOGIN, '--to', 'erin@example.org', '--header', 'Subject: after-failures');
    expect(r.code, r.stdout).toBe(0);
    expect((await waitForFiles(newFolder(`${server.dir}/mail`, 'erin@example.org'))).length).toBe(1);
  });

  it('tls: no password and no SASL line reaches the log; failures log the login and the address', async () => {
    expect(await waitUntil(() => logLines(server.output()).some((l) => l.msg === 'authentication failed'))).toBe(true);
    const log = server.output();
    const secrets = [PASSWORD, b64(`\0${LOGIN}\0${PASSWORD}`), b64(PASSWORD), b64(`\0${LOGIN}\0wrong`), b64('wrong')];
    for (const secret of secrets) expect(log).not.toContain(secret);
    const lines = logLines(log);
    expect(lines.some((l) => l.msg === 'command' && l.line === 'AUTH PLAIN ***')).toBe(true);
    expect(lines.some((l) => l.msg === 'authenticated' && l.login === LOGIN)).toBe(true);
    const failed = lines.find((l) => l.msg === 'authentication failed');
    expect(failed).toMatchObject({ login: LOGIN, ip: '127.0.0.1', reason: 'bad-password' });
  });
});
