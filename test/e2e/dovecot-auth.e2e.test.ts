// One user database for sending and reading: a user made with `mta user add` logs in to mta
// (submission, AUTH PLAIN over STARTTLS) and sends to herself, then logs in to Dovecot over IMAP
// with the same password and reads the message. Dovecot's passdb is `driver = sql` with its
// sqlite driver (dovecot-sqlite) reading our users table; `doveadm pw -t` verifies the stored
// hash, read with the sqlite3 shell. Our own Dovecot instance, as in dovecot.e2e.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOVECOT, dovecotConfig, dovecotProblem } from '../helpers/dovecot.js';
import { runProgram, runPython } from '../helpers/peers.js';
import { waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { freePort, MTA, type RunningServer, startServer } from '../helpers/server.js';
import { addUser, makeTestPki, type TestPki, tlsSettings } from '../helpers/tls.js';

const DOVEADM = '/usr/bin/doveadm';
const SQLITE3 = '/usr/bin/sqlite3';
const SQLITE_DRIVER = '/usr/lib/dovecot/modules/auth/libdriver_sqlite.so';
const LOGIN = 'alice@example.org';
const PASSWORD = 'imap and smtp alike';

/** Why this test cannot run here, or undefined when it can. */
function problem(): string | undefined {
  for (const [file, pkg] of [[DOVEADM, 'dovecot-core'], [SQLITE_DRIVER, 'dovecot-sqlite'], [SQLITE3, 'sqlite3']]) {
    if (!existsSync(file as string)) return `${file} not found (apt-get install ${pkg})`;
  }
  return dovecotProblem();
}

const missing = problem();
if (missing !== undefined && process.env.CI) throw new Error(`dovecot auth e2e: ${missing}`);
if (missing !== undefined) process.stderr.write(`skipping dovecot auth e2e: ${missing}\n`);

/** Writes the sqlite passdb settings reading our users table; returns the Dovecot config using them. */
function authConfig(dir: string, port: number, maildirRoot: string, database: string): string {
  writeFileSync(
    path.join(dir, 'sql.conf.ext'),
    `driver = sqlite
connect = ${database}
default_pass_scheme = ARGON2ID
password_query = SELECT login AS user, password FROM users WHERE login = '%Lu' AND enabled = 1
`,
  );
  return dovecotConfig(dir, port, maildirRoot, `driver = sql\n  args = ${dir}/sql.conf.ext`);
}

/** Logs in over IMAP; prints the outcome and the subjects in INBOX. */
const IMAP_SCRIPT = `
import imaplib, json, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
imap = imaplib.IMAP4('127.0.0.1', port)
try:
    imap.login(user, password)
except imaplib.IMAP4.error as e:
    print(json.dumps({'ok': False, 'error': str(e), 'subjects': []}))
    sys.exit(0)
imap.select('INBOX', readonly=True)
typ, data = imap.search(None, 'ALL')
subjects = []
for num in data[0].split():
    typ, msg = imap.fetch(num, '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
    subjects.append(msg[0][1].decode().strip())
imap.logout()
print(json.dumps({'ok': True, 'subjects': subjects}))
`;

interface ImapResult {
  readonly ok: boolean;
  readonly subjects: string[];
}

describe.skipIf(missing !== undefined)('dovecot auth', () => {
  let mta: RunningServer;
  let pki: TestPki;
  let dovecot: ChildProcess | undefined;
  let dir = '';
  let imapPort = 0;
  let submission = 0;
  let database = '';

  const dovecotLog = () => (existsSync(path.join(dir, 'dovecot.log')) ? readFileSync(path.join(dir, 'dovecot.log'), 'utf8') : '(no log)');
  const imap = (user: string, password: string) => runPython<ImapResult>(IMAP_SCRIPT, [imapPort, user, password]);

  beforeAll(async () => {
    const mtaDir = mkdtempSync(path.join(os.tmpdir(), 'mta-dovecot-auth-'));
    chmodSync(mtaDir, 0o755);
    pki = makeTestPki(mtaDir);
    database = path.join(mtaDir, 'auth/users.db');
    submission = await freePort();
    mta = await startServer({
      dir: mtaDir,
      awaitGreeting: true,
      extraListen: [`127.0.0.1:${submission}/submission`],
      top: `${tlsSettings(pki)}\nauth = { database = "${database}"; };`,
    });
    await addUser(mta.configPath, LOGIN, PASSWORD);
    dir = mkdtempSync(path.join(os.tmpdir(), 'mta-dovecot-auth-imap-'));
    chmodSync(dir, 0o755);
    imapPort = await freePort();
    writeFileSync(path.join(dir, 'dovecot.conf'), authConfig(dir, imapPort, path.join(mtaDir, 'mail'), database));
    dovecot = spawn(DOVECOT, ['-c', path.join(dir, 'dovecot.conf'), '-F'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    dovecot.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<never>((_, reject) => dovecot?.once('exit', (code) => reject(new Error(`dovecot exited (${code}): ${output}\n${dovecotLog()}`))));
    const listening = waitFor('dovecot to listen', () =>
      RawClient.connect(imapPort).then(
        (c) => (c.close(), true),
        () => false,
      ),
    );
    await Promise.race([listening, exited]);
  });

  afterAll(async () => {
    if (dovecot && dovecot.exitCode === null && dovecot.signalCode === null) {
      const gone = new Promise((resolve) => dovecot?.once('exit', resolve));
      dovecot.kill('SIGTERM');
      await gone;
    }
    if (mta) expect(await mta.stop()).toBe(0);
  });

  it('dovecot auth: doveadm pw verifies the hash mta user add stored (read with sqlite3)', async () => {
    const hash = (await runProgram(SQLITE3, [database, `SELECT password FROM users WHERE login = '${LOGIN}'`])).stdout.trim();
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const ok = await runProgram(DOVEADM, ['pw', '-t', `{ARGON2ID}${hash}`, '-p', PASSWORD]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('(verified)');
    expect((await runProgram(DOVEADM, ['pw', '-t', `{ARGON2ID}${hash}`, '-p', 'wrong'])).code).not.toBe(0);
  });

  it('dovecot auth: the user sends through mta with AUTH and reads the message over IMAP with the same password', async () => {
    const sent = await runPython<[number, string]>(
      `
import json, smtplib, ssl, sys
port, ca, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=30)
s.starttls(context=ssl.create_default_context(cafile=ca))
s.login(user, password)
s.sendmail(user, [user], 'Subject: one database\\r\\n\\r\\nsent with AUTH, read with IMAP\\r\\n')
print(json.dumps(list(s.quit())[:1] + ['ok']))
`,
      [submission, pki.caCert, LOGIN, PASSWORD],
    );
    expect(sent[0]).toBe(221);
    const view = await imap(LOGIN, PASSWORD);
    expect(view, dovecotLog()).toEqual({ ok: true, subjects: ['Subject: one database'] });
  });

  it('dovecot auth: a wrong password and a disabled user are refused by Dovecot too', async () => {
    expect((await imap(LOGIN, 'wrong')).ok).toBe(false);
    await addUser(mta.configPath, 'bob@example.org', 'bobs password');
    expect((await imap('Bob@example.org', 'bobs password')).ok).toBe(true);
    const disabled = await runProgram(process.execPath, [MTA, 'user', 'disable', 'bob@example.org', '-f', mta.configPath]);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect((await imap('bob@example.org', 'bobs password')).ok).toBe(false);
    expect(dovecotLog()).not.toMatch(/Error|Panic|Fatal/);
  });
});
