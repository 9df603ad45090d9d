// The aliases file and postmaster against the built server, with swaks and smtplib as clients
// from 127.0.0.1 (not in relay_networks) and create_mailboxes off: an alias fans out into one
// hard-linked file, its remote target is queued for the relay, postmaster of every local domain
// reaches a mailbox created on demand, and SIGHUP re-reads the file (a loop keeps the old one).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, newFolder, readMessage, readQueued, waitForFiles } from '../helpers/maildir.js';
import { runProgram, runPython, shouldRunWith } from '../helpers/peers.js';
import { logLines, waitFor } from '../helpers/process.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const SWAKS = '/usr/bin/swaks';
const ALIASES = ['# test aliases', 'team:  bob,', '       dave@example.com, carol@remote.test', 'Everyone: team, bob@example.org'].join('\n');

describe.skipIf(!shouldRunWith(SWAKS, 'alias tests') || !shouldRunWith('python3', 'alias tests'))('aliases and postmaster', () => {
  let server: RunningServer;
  let aliasesFile: string;
  const mail = (address: string) => newFolder(`${server.dir}/mail`, address);

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-e2e-aliases-'));
    aliasesFile = path.join(dir, 'aliases');
    writeFileSync(aliasesFile, `${ALIASES}\n`);
    for (const [domain, user] of [['example.org', 'bob'], ['example.com', 'dave']] as const) {
      for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, 'mail', domain, user, sub), { recursive: true });
    }
    // As root the server runs as nobody, which must own the mailboxes as it would its users'.
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'nobody:nogroup', path.join(dir, 'mail')]);
    // The relay would try the remote target at once: through a closed loopback port, never the Internet.
    const relay = 'relay = { smarthost = "[127.0.0.1]:9"; retry_min_interval = 3600; };';
    server = await startServer({ dir, awaitGreeting: true, top: relay, maildir: `create_mailboxes = false; aliases = "${aliasesFile}";` });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  function swaks(to: string, subject: string) {
    return runProgram(SWAKS, ['--server', '127.0.0.1', '--port', String(server.port), '--from', 'sender@client.test', '--to', to, '--helo', 'client.test', '--header', `Subject: ${subject}`], { timeoutMs: 30_000 });
  }

  it('an alias fans out to two local mailboxes as one hard-linked file and queues its remote target', async () => {
    const r = await swaks('Everyone@example.org', 'fan-out');
    expect(r.code, r.stdout).toBe(0);
    const queueId = /250 2\.0\.0 OK: queued as (\S+)/.exec(r.stdout)?.[1] as string;
    const [bob] = await waitForFiles(mail('bob@example.org'));
    const [dave] = await waitForFiles(mail('dave@example.com'));
    const [bobInfo, daveInfo] = [statSync(bob as string), statSync(dave as string)];
    expect(bobInfo.ino).toBe(daveInfo.ino);
    expect(bobInfo.nlink).toBe(2);
    expect(readMessage(bob as string).headers).toContain('Subject: fan-out\n');
    // The remote target is queued for the relay (which may have tried it already and deferred it),
    // recorded with the address the client gave.
    const envelope = JSON.parse(readQueued(path.join(server.dir, 'queue'), queueId, 'envelope')) as { recipients: unknown[] };
    expect(envelope.recipients).toEqual([
      expect.objectContaining({ address: 'bob@example.org', originalRecipient: 'Everyone@example.org', status: 'delivered' }),
      expect.objectContaining({ address: 'dave@example.com', originalRecipient: 'Everyone@example.org', status: 'delivered' }),
      expect.objectContaining({ address: 'carol@remote.test', originalRecipient: 'Everyone@example.org', status: expect.stringMatching(/^(pending|deferred)$/) as string }),
    ]);
    expect(logLines(server.output()).some((l) => l.msg === 'alias expanded' && l.queueId === queueId)).toBe(true);
  });

  it('postmaster of every local domain, and <Postmaster>, is accepted with create_mailboxes off and lands in one mailbox', async () => {
    const out = await runPython<{ rcpt: [number, string][]; unknown: [number, string]; sent: Record<string, unknown> }>(
      `
import json, smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.test', timeout=30)
s.ehlo()
s.mail('sender@client.test')
out = {'rcpt': [], 'unknown': None}
for rcpt in ['PostMaster@example.com', 'postmaster@example.org', 'Postmaster']:
    code, text = s.rcpt(rcpt)
    out['rcpt'].append([code, text.decode()])
code, text = s.rcpt('webmaster@example.org')
out['unknown'] = [code, text.decode()]
s.rset()
out['sent'] = s.sendmail('sender@client.test', ['postmaster@example.com', 'Postmaster'], b'Subject: to postmaster\\r\\n\\r\\nhello\\r\\n')
s.quit()
print(json.dumps(out))`,
      [server.port],
    );
    expect(out.rcpt.map(([code]) => code)).toEqual([250, 250, 250]);
    expect(out.unknown[0]).toBe(550);
    expect(out.sent).toEqual({});
    const [file] = await waitForFiles(mail('postmaster@example.org'));
    expect(readMessage(file as string).headers).toContain('Subject: to postmaster\n');
    expect(listFiles(mail('postmaster@example.com'))).toEqual([]);
  });

  it('SIGHUP re-reads the aliases file; a file with a loop is refused and the old aliases stay', async () => {
    const lines = () => logLines(server.output());
    writeFileSync(aliasesFile, `${ALIASES}\nsales: bob\n`);
    server.process.kill('SIGHUP');
    await waitFor('both workers reconfigured', () => lines().filter((l) => l.msg === 'worker reconfigured' && l.role === 'smtp').length === 2);
    expect((await swaks('sales@example.com', 'sales-1')).code).toBe(0);
    await waitFor('the sales message', () => listFiles(mail('bob@example.org')).some((f) => readMessage(f).headers.includes('Subject: sales-1\n')));

    writeFileSync(aliasesFile, `${ALIASES}\nsales: marketing\nmarketing: sales, dave@example.com\n`);
    server.process.kill('SIGHUP');
    const refused = await waitFor('the refused reload', () => {
      const found = lines().filter((l) => l.msg === 'aliases file invalid; reload abandoned, keeping the running config and aliases');
      return found.length >= 2 && found;
    });
    expect(refused.map((l) => l.problem)).toEqual([`${aliasesFile}:5: alias "sales" loops: sales -> marketing -> sales`, `${aliasesFile}:6: alias "marketing" loops: marketing -> sales -> marketing`]);
    // The running table is the one before: sales still goes to bob, and marketing is no alias.
    expect((await swaks('sales@example.org', 'sales-2')).code).toBe(0);
    await waitFor('the second sales message', () => listFiles(mail('bob@example.org')).some((f) => readMessage(f).headers.includes('Subject: sales-2\n')));
    const r = await swaks('marketing@example.org', 'marketing');
    expect(r.stdout).toMatch(/^<\*\* 550 5\.1\.1 <marketing@example\.org>/m);
  });
});
