// Dovecot reads what mta writes: mta delivers into Maildir, then our own Dovecot instance (config
// generated in a temp dir, foreground, loopback) serves it over IMAP to Python's imaplib. Checks
// the folders, every message byte for byte and RFC822.SIZE. Dovecot 2.3 config syntax only.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOVECOT, dovecotConfig, dovecotProblem } from '../helpers/dovecot.js';
import { listMessages, type MaildirFile } from '../helpers/maildir-scan.js';
import { RawClient } from '../helpers/raw-client.js';
import { buildMessage, sendOnce } from '../helpers/smtp-send.js';
import { freePort, type RunningServer, startServer } from '../helpers/server.js';

const run = promisify(execFile);
const PASSWORD = 'secret';

const problem = dovecotProblem();
if (problem !== undefined && process.env.CI) throw new Error(`dovecot e2e: ${problem}`);
if (problem !== undefined) process.stderr.write(`skipping dovecot e2e: ${problem}\n`);


/** The Python side: logs in, lists folders, fetches every INBOX message; prints JSON. */
const IMAP_SCRIPT = `
import base64, imaplib, json, re, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
imap = imaplib.IMAP4('127.0.0.1', port)
imap.login(user, password)
typ, listed = imap.list()
folders = [re.search(rb'"([^"]*)"$|(\\S+)$', line).group(0).strip(b'"').decode() for line in listed]
typ, data = imap.select('INBOX', readonly=True)
count = int(data[0])
messages = []
if count:
    typ, fetched = imap.fetch('1:*', '(RFC822.SIZE BODY.PEEK[])')
    for item in fetched:
        if not isinstance(item, tuple):
            continue
        size = int(re.search(rb'RFC822\\.SIZE (\\d+)', item[0]).group(1))
        messages.append({'size': size, 'body': base64.b64encode(item[1]).decode()})
imap.logout()
print(json.dumps({'folders': folders, 'count': count, 'messages': messages}))
`;

interface ImapView {
  readonly folders: string[];
  readonly count: number;
  readonly messages: { size: number; body: string }[];
}

let mta: RunningServer | undefined;
let dovecot: ChildProcess | undefined;
let dir = '';

async function waitForImap(port: number, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      const client = await RawClient.connect(port);
      client.close();
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`dovecot did not listen: ${(err as Error).message}\n${dovecotLog()}`);
      await new Promise((r) => setTimeout(r, 50)); // pause between connect polls
    }
  }
}

function dovecotLog(): string {
  const file = path.join(dir, 'dovecot.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '(no dovecot log)';
}

async function imapView(port: number, user: string): Promise<ImapView> {
  const { stdout } = await run('python3', [path.join(dir, 'imap.py'), String(port), user, PASSWORD]).catch((err: Error) => {
    throw new Error(`imap session for ${user} failed: ${err.message}\n${dovecotLog()}`);
  });
  return JSON.parse(stdout) as ImapView;
}

function messageIdOf(text: string): string {
  return /^Message-ID: <([^>]+)>/im.exec(text)?.[1] ?? '';
}

describe.skipIf(problem !== undefined)('dovecot', () => {
  const sent = [
    { id: 'one@client.test', to: ['alice@example.org'], body: 'A plain message.\r\nSecond line.' },
    { id: 'two@client.test', to: ['alice@example.org', 'Bob@example.org'], body: 'For two mailboxes, one inode.' },
    { id: 'three@client.test', to: ['carol@example.com'], body: `8-bit: gr\u00fc\u00dfe\r\n${'long line '.repeat(60)}\r\n\r\nEnd.` },
  ];
  let files: MaildirFile[] = [];
  let imapPort = 0;

  beforeAll(async () => {
    mta = await startServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'mta-dovecot-'));
    chmodSync(dir, 0o755); // Dovecot's unprivileged processes live under base_dir
    for (const m of sent) {
      const data = buildMessage({ from: 'sender@client.test', to: m.to[0] as string, messageId: m.id, subject: m.id, body: m.body });
      const result = await sendOnce(mta.port, { from: 'sender@client.test', to: m.to, data });
      expect(result.reply.code, result.reply.last).toBe(250);
    }
    // 250 means on disk: the files are there now, nothing to wait for.
    files = listMessages(path.join(mta.dir, 'mail'));
    imapPort = await freePort();
    writeFileSync(path.join(dir, 'dovecot.conf'), dovecotConfig(dir, imapPort, path.join(mta.dir, 'mail'), `driver = static\n  args = password=${PASSWORD}`));
    writeFileSync(path.join(dir, 'imap.py'), IMAP_SCRIPT);
    dovecot = spawn(DOVECOT, ['-c', path.join(dir, 'dovecot.conf'), '-F'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    dovecot.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<never>((_, reject) =>
      dovecot?.once('exit', (code) => reject(new Error(`dovecot exited (${code}): ${output}\n${dovecotLog()}`))),
    );
    await Promise.race([waitForImap(imapPort), exited]);
  });

  afterAll(async () => {
    if (dovecot && dovecot.exitCode === null && dovecot.signalCode === null) {
      const gone = new Promise((resolve) => dovecot?.once('exit', resolve));
      dovecot.kill('SIGTERM');
      await gone;
    }
    if (mta) expect(await mta.stop()).toBe(0);
  });

  it('dovecot sees the files mta wrote: one per mailbox, the two-recipient one hard-linked', () => {
    expect(files.map((f) => f.mailbox).sort()).toEqual(['example.com/carol', 'example.org/alice', 'example.org/alice', 'example.org/bob']);
    const shared = files.filter((f) => messageIdOf(readFileSync(f.path, 'latin1')) === 'two@client.test');
    expect(shared).toHaveLength(2);
    expect(shared[0]?.inode).toBe(shared[1]?.inode);
    expect(shared[0]?.links).toBe(2);
    for (const f of files) expect(f.sizeBytes).toBe(f.sizeInName);
  });

  it('dovecot lists INBOX and the Maildir++ folders mta created', async () => {
    const view = await imapView(imapPort, 'alice@example.org');
    expect([...view.folders].sort()).toEqual(['Drafts', 'INBOX', 'Sent', 'Trash']);
  });

  for (const [user, box, count] of [
    ['alice@example.org', 'example.org/alice', 2],
    ['bob@example.org', 'example.org/bob', 1],
    ['carol@example.com', 'example.com/carol', 1],
  ] as const) {
    it(`dovecot serves ${user} every message byte for byte with the right RFC822.SIZE`, async () => {
      // Read the files before the session: Dovecot moves them from new/ to cur/ on SELECT.
      const onDisk = new Map(
        files.filter((f) => f.mailbox === box).map((f) => {
          const bytes = readFileSync(f.path);
          return [messageIdOf(bytes.toString('latin1')), bytes] as const;
        }),
      );
      const view = await imapView(imapPort, user);
      expect(view.count).toBe(count);
      expect(view.messages).toHaveLength(count);
      for (const m of view.messages) {
        const served = Buffer.from(m.body, 'base64');
        const file = onDisk.get(messageIdOf(served.toString('latin1')));
        expect(file, `no file for message ${messageIdOf(served.toString('latin1'))}`).toBeDefined();
        if (file === undefined) continue;
        // The file has LF line ends (no CR anywhere); IMAP sends CRLF (RFC 3501 2.3.1.1 / RFC 5322),
        // so Dovecot turns each LF into CRLF. Undoing exactly that must give back the file.
        expect(file.includes(0x0d)).toBe(false);
        expect(served.toString('latin1').replaceAll('\r\n', '\n')).toBe(file.toString('latin1'));
        expect(served.equals(Buffer.from(file.toString('latin1').replaceAll('\n', '\r\n'), 'latin1'))).toBe(true);
        expect(m.size).toBe(served.length);
        expect(served.toString('latin1').startsWith('Return-Path: <sender@client.test>\r\n')).toBe(true);
      }
    });
  }

  it('dovecot logs no error about our files (a wrong S= shows up here as "Cached message size")', () => {
    expect(dovecotLog()).not.toMatch(/Error|Panic|Fatal|Warning: .*size/i);
  });
});
