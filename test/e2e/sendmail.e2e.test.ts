// sendmail -> maildrop -> Maildir with the real daemon: picked up at once while it runs, kept
// while it is stopped and picked up when it starts. The submitter is the file's owner: root may
// set the sender with -f, another user may not. Runs the program through a link named sendmail.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/process.js';
import { programCommand, type RunningServer, startServer } from '../helpers/server.js';

const root = process.getuid?.() === 0;
/** Debian's `daemon` account: a local user who is neither root nor the service user. */
const DAEMON_UID = 1;

/** Runs sendmail with the test's config and `input` on stdin; resolves with status and stderr. */
function sendmail(configPath: string, args: readonly string[], input: string, uid?: number): Promise<{ code: number | null; stderr: string }> {
  const command = programCommand('sendmail', ['-C', configPath, ...args]);
  return new Promise((resolve) => {
    const child = spawn(command.file, command.args, { stdio: ['pipe', 'ignore', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('close', (code) => resolve({ code, stderr }));
    child.stdin.end(input);
  });
}

/** Waits for `count` messages in a mailbox's new/ and returns their texts. */
async function messages(server: RunningServer, user: string, count = 1): Promise<string[]> {
  const dir = path.join(server.dir, 'mail/example.org', user, 'new');
  const names = await waitFor(`${count} message(s) for ${user}`, () => {
    const found = statSync(dir, { throwIfNoEntry: false }) ? readdirSync(dir) : [];
    return found.length >= count && found;
  });
  return names.map((name) => readFileSync(path.join(dir, name), 'latin1'));
}

const maildrop = (server: RunningServer) => path.join(server.dir, 'queue/maildrop');

describe('sendmail with the daemon running', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
    await waitFor('the maildrop folder', () => statSync(maildrop(server), { throwIfNoEntry: false }));
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('sendmail creates the maildrop world-writable with the sticky bit', () => {
    expect(statSync(maildrop(server)).mode & 0o7777).toBe(0o1733);
  });

  it('sendmail delivers a message and adds Received, From, Date and Message-ID', async () => {
    const result = await sendmail(server.configPath, ['-i', 'alice@example.org'], 'Subject: cron\n\nline one\n.\nline three\n');
    expect(result).toEqual({ code: 0, stderr: '' });
    const [text] = await messages(server, 'alice');
    const uid = process.getuid?.() ?? 0;
    expect(text).toMatch(new RegExp(`^Return-Path: <[^>]+@mx\\.test>\\n`));
    expect(text).toMatch(new RegExp(`\\nReceived: from local user \\(uid ${uid}\\) by mx\\.test \\(mta\\) id \\w+\\n\\tfor <alice@example\\.org>;`));
    expect(text).toMatch(/\nFrom: <[^>]+@mx\.test>\n/);
    expect(text).toMatch(/\nDate: \w{3}, \d+ \w{3} \d{4} [\d:]{8} \+0000\n/);
    expect(text).toMatch(/\nMessage-ID: <[\w.]+@mx\.test>\n/);
    expect(text).toContain('\n\nline one\n.\nline three\n');
    expect(text).not.toContain('\r');
    await waitFor('an empty maildrop', () => readdirSync(maildrop(server)).length === 0);
  });

  it('sendmail without -i ends the message at a line holding a single dot', async () => {
    expect((await sendmail(server.configPath, ['bob@example.org'], 'Subject: dot\n\nbefore\n.\nafter\n')).code).toBe(0);
    const [text] = await messages(server, 'bob');
    expect(text).toContain('\n\nbefore\n');
    expect(text).not.toContain('after');
  });

  it('sendmail -t takes recipients from To, Cc and Bcc and removes Bcc', async () => {
    const input = 'To: Carol <carol@example.org>\nCc: dave@example.org\nBcc: eve@example.org\nSubject: t\n\nhi\n';
    expect((await sendmail(server.configPath, ['-t', '-oi'], input)).code).toBe(0);
    for (const user of ['carol', 'dave', 'eve']) {
      const [text] = await messages(server, user);
      expect(text).toContain('To: Carol <carol@example.org>\n');
      expect(text).not.toMatch(/^Bcc:/im);
    }
  });

  it.skipIf(!root)('sendmail -f is honoured for root and ignored for another user', async () => {
    expect((await sendmail(server.configPath, ['-f', 'boss@example.net', '-F', 'The Boss', 'frank@example.org'], 'Subject: f\n\nx\n')).code).toBe(0);
    const [byRoot] = await messages(server, 'frank');
    expect(byRoot).toMatch(/^Return-Path: <boss@example\.net>\n/);
    expect(byRoot).toContain('\nFrom: The Boss <boss@example.net>\n');
    expect((await sendmail(server.configPath, ['-f', 'boss@example.net', 'grace@example.org'], 'Subject: f\n\nx\n', DAEMON_UID)).code).toBe(0);
    const [byDaemon] = await messages(server, 'grace');
    expect(byDaemon).toMatch(/^Return-Path: <daemon@mx\.test>\n/);
    expect(byDaemon).toContain(`Received: from local user (uid ${DAEMON_UID})`);
  });

  it('sendmail exits 64 without recipients and 65 on a bad address', async () => {
    expect(await sendmail(server.configPath, [], 'x\n')).toEqual({ code: 64, stderr: 'sendmail: no recipients given\n' });
    expect(await sendmail(server.configPath, ['a@@b'], 'x\n')).toEqual({ code: 65, stderr: 'sendmail: invalid recipient address "a@@b"\n' });
    expect(await sendmail(server.configPath, ['-t'], 'Subject: none\n\nx\n')).toMatchObject({ code: 65 });
  });
});

describe('sendmail with the daemon stopped', () => {
  it('sendmail keeps the message in the maildrop until the daemon starts', async () => {
    const first = await startServer();
    await waitFor('the maildrop folder', () => statSync(maildrop(first), { throwIfNoEntry: false }));
    expect(await first.stop()).toBe(0);
    expect((await sendmail(first.configPath, ['-i', 'alice@example.org'], 'Subject: while down\n\nkept\n')).code).toBe(0);
    expect(readdirSync(maildrop(first))).toEqual([expect.stringMatching(/^d\.[0-9a-f]{32}$/)]);
    const second = await startServer({ dir: first.dir, port: first.port });
    try {
      const [text] = await messages(second, 'alice');
      expect(text).toContain('Subject: while down\n');
      await waitFor('an empty maildrop', () => readdirSync(maildrop(second)).length === 0);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
