// AUTH against a running daemon, with Python's smtplib as the client: `mta user` changes reach
// it at the next AUTH without a reload, brute force locks an address out and it is served again
// once the lockout has passed (small configured values; we poll, never sleep), and SIGHUP reads
// the certificate again (a key only root can read keeps the running one; a readable one is served).
import { X509Certificate } from 'node:crypto';
import { copyFileSync, chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/maildir.js';
import { runPython, shouldRunWith } from '../helpers/peers.js';
import { logLines, waitFor } from '../helpers/process.js';
import { freePort, type RunningServer, startServer } from '../helpers/server.js';
import { addUser, makeTestPki, runMtaCommand, type TestPki, tlsSettings } from '../helpers/tls.js';

/** Tries AUTH PLAIN once per password, in one session over implicit TLS from `source`; prints the reply codes (235, 535, 454...). */
const LOGIN_SCRIPT = `
import json, smtplib, ssl, sys
port, source, user, passwords = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL('127.0.0.1', port, local_hostname='client.test', context=ctx, timeout=30, source_address=(source, 0))
s.ehlo()
# One attempt per password: login() would try LOGIN after a failed PLAIN.
s.esmtp_features['auth'] = 'PLAIN'
codes = []
for password in passwords:
    try:
        code, text = s.login(user, password)
    except smtplib.SMTPResponseException as e:
        code = e.smtp_code
    codes.append(code)
s.close()
print(json.dumps(codes))
`;

describe.skipIf(!shouldRunWith('python3', 'AUTH tests') || !shouldRunWith('openssl', 'AUTH tests'))('auth', () => {
  let server: RunningServer;
  let pki: TestPki;
  let submissions = 0;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mta-auth-'));
    chmodSync(dir, 0o755);
    pki = makeTestPki(dir);
    submissions = await freePort();
    server = await startServer({
      dir,
      awaitGreeting: true,
      extraListen: [`127.0.0.1:${submissions}/submissions`],
      // The lockout outlasts the few seconds the locked-out attempt takes even on a loaded machine.
      top: `${tlsSettings(pki)}\nauth = { database = "${dir}/auth/users.db"; max_failures = 3; lockout = 15; };`,
      server: 'max_errors = 50;',
    });
  });

  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  const logins = (user: string, passwords: readonly string[], source = '127.0.0.1') => runPython<number[]>(LOGIN_SCRIPT, [submissions, source, user, ...passwords]);
  const login = async (user: string, password: string, source = '127.0.0.1') => (await logins(user, [password], source))[0];

  it('auth: mta user add, passwd and disable reach the running daemon at the next AUTH', async () => {
    expect(await login('bob@example.org', 'first')).toBe(535);
    await addUser(server.configPath, 'bob@example.org', 'first');
    expect(await login('bob@example.org', 'first')).toBe(235);
    const passwd = await runMtaCommand(server.configPath, ['user', 'passwd', 'bob@example.org', '--password-stdin'], 'second\n');
    expect(passwd.code, passwd.stderr).toBe(0);
    expect(await login('bob@example.org', 'first')).toBe(535);
    expect(await login('Bob@Example.org', 'second')).toBe(235);
    expect((await runMtaCommand(server.configPath, ['user', 'disable', 'bob@example.org'])).code).toBe(0);
    expect(await login('bob@example.org', 'second')).toBe(535);
    const list = await runMtaCommand(server.configPath, ['user', 'list']);
    expect(list.stdout).toContain('bob@example.org  disabled  bob@example.org');
  });

  it('auth: an address is locked out after max_failures, even with the right password, and served again after the lockout', async () => {
    await addUser(server.configPath, 'carol@example.org', 'right');
    expect(await logins('carol@example.org', ['wrong0', 'wrong1', 'wrong2', 'right'], '127.0.0.3')).toEqual([535, 535, 535, 454]);
    // Another address is not locked out.
    expect(await login('carol@example.org', 'right', '127.0.0.4')).toBe(235);
    // Poll until the lockout has passed (each poll is a whole login).
    expect(await waitFor('the lockout to end', async () => (await login('carol@example.org', 'right', '127.0.0.3')) === 235, 60_000)).toBe(true);
    const lines = logLines(server.output());
    expect(lines.filter((l) => l.msg === 'authentication failed' && l.ip === '127.0.0.3' && l.login === 'carol@example.org')).toHaveLength(3);
    expect(lines.some((l) => l.msg === 'authentication refused: address locked out' && l.ip === '127.0.0.3')).toBe(true);
    expect(server.output()).not.toContain('wrong0');
  });

  const isRoot = process.getuid?.() === 0;
  it.skipIf(!isRoot)('auth: SIGHUP reads the certificate again: a root-only key keeps the running one, a readable one is served', async () => {
    const fingerprint = () =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: submissions, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().fingerprint256);
          s.destroy();
        });
        s.on('error', reject);
      });
    const original = await fingerprint();
    const renewed = makeTestPki(mkdtempSync(path.join(dir, 'renewed-')));
    copyFileSync(renewed.cert, pki.cert);
    copyFileSync(renewed.key, pki.key);
    chmodSync(pki.key, 0o600);
    const kept = () => logLines(server.output()).filter((l) => l.msg === 'config reload: cannot load TLS keys; keeping the running certificates').length;
    server.process.kill('SIGHUP');
    expect(await waitUntil(() => kept() === 1)).toBe(true);
    expect(await fingerprint()).toBe(original);
    // Readable by the service user now (as with a key in its group): the next SIGHUP serves it.
    chmodSync(pki.key, 0o644);
    server.process.kill('SIGHUP');
    const served = await waitFor('the renewed certificate', async () => {
      const f = await fingerprint();
      return f !== original && f;
    });
    expect(served).toBe(new X509Certificate(readFileSync(renewed.cert)).fingerprint256);
    expect(kept()).toBe(1);
  });
});
