// Disk errors with the real server: maildir root and queue each on a 512 KiB tmpfs, filled up,
// then freed; then a maildir root that is unwritable or missing. Whatever the client is told,
// nothing partial may appear in any new/ and nothing half-written may stay in the queue.
import { chownSync, existsSync, mkdtempSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill, mountTmpfs, unmount } from '../unit/maildir/tmpfs.js';
import { listMaildirTmp, listMessages, listQueueFolder } from '../helpers/maildir-scan.js';
import { buildMessage, sendOnce, type SendResult } from '../helpers/smtp-send.js';
import { waitFor } from '../helpers/process.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-disk-'));
const mailRoot = path.join(dir, 'mail');
const queueRoot = path.join(dir, 'queue');
let server: RunningServer | undefined;
let counter = 0;

/** Sends one message with a body of `bodyLines` numbered lines; the END line proves completeness. */
function send(to: string | string[], options: { from?: string; bodyLines?: number; localAddress?: string } = {}): Promise<SendResult> {
  const token = `disk-${++counter}`;
  const rcpts = typeof to === 'string' ? [to] : to;
  const lines = Array.from({ length: options.bodyLines ?? 20 }, (_, i) => `${token} line ${i} ${'y'.repeat(50)}`);
  const body = [...lines, `END ${token}`].join('\r\n');
  const data = buildMessage({ from: options.from ?? 'sender@client.test', to: rcpts.join(', '), messageId: `${token}@client.test`, subject: token, body });
  return sendOnce((server as RunningServer).port, { from: options.from ?? 'sender@client.test', to: rcpts, data }, options.localAddress);
}

/** Every file in new/ and cur/ is whole: its size is its S= and it ends with its END line. */
function expectNoPartialFiles(): void {
  for (const file of listMessages(mailRoot)) {
    expect(file.sizeBytes, file.path).toBe(file.sizeInName);
    const text = readFileSync(file.path, 'latin1');
    const token = /^Subject: (\S+)$/m.exec(text)?.[1];
    expect(text.endsWith(`END ${token}\n`), `${file.path} is partial`).toBe(true);
  }
}

function delivered(token: string): number {
  return listMessages(mailRoot).filter((f) => readFileSync(f.path, 'latin1').includes(`\nSubject: ${token}\n`)).length;
}

function expectTransientStorage(result: SendResult): void {
  expect(result.reply.code, result.reply.last).toBe(452);
  expect(result.reply.last).toMatch(/^452 4\.3\.1 /);
}

type Envelope = { queueId: string; recipients: { address: string; status: string; lastReply?: { code: number; enhancedCode?: string } }[] };

/** The deferred messages for local recipients (relayed ones are deferred too: the test's DNS answers nothing). */
function deferredEnvelopes(): Envelope[] {
  return listQueueFolder(queueRoot, 'deferred')
    // A message the runner retires between the listing and the read is simply gone.
    .flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(path.join(queueRoot, 'deferred', name, 'envelope'), 'utf8')) as Envelope];
      } catch {
        return [];
      }
    })
    .filter((e) => e.recipients.some((r) => /@example\.(org|com)$/.test(r.address)));
}

// Only a probe at import (mounted and unmounted at once), so nothing stays mounted if no test runs.
const canMount = await (async () => {
  const probe = path.join(dir, 'probe');
  await mkdir(probe);
  const ok = await mountTmpfs(probe, 64);
  if (ok) await unmount(probe);
  if (!ok && process.env.CI) throw new Error('disk-errors e2e: cannot mount a tmpfs (needs root); CI must run these');
  return ok;
})();

beforeAll(async () => {
  if (!canMount) return;
  await mkdir(mailRoot);
  await mkdir(queueRoot);
  if (!(await mountTmpfs(mailRoot, 512)) || !(await mountTmpfs(queueRoot, 512))) throw new Error('cannot mount the test tmpfs');
  // mta never takes over a directory it did not create: hand the mount points to the service
  // user (nobody, as root), as an operator would.
  if (process.getuid?.() === 0) for (const root of [mailRoot, queueRoot]) chownSync(root, 65534, 65534);
  // Retries within seconds, so the deferred message is retried while the test waits.
  server = await startServer({ dir, top: 'relay = { retry_min_interval = 1; retry_max_interval = 2; };' });
});

afterAll(async () => {
  if (server) expect(await server.stop()).toBe(0);
  await unmount(mailRoot);
  await unmount(queueRoot);
});

describe.skipIf(!canMount)('disk errors', () => {
  let deferredToken = '';

  it('disk errors: a full maildir refuses mail for one mailbox with 452 4.3.1, with no file in tmp/, new/ or the queue', async () => {
    expect((await send('alice@example.org')).reply.code).toBe(250); // creates the mailbox
    expect((await send('bob@example.org')).reply.code).toBe(250);
    const before = listMessages(mailRoot).length;
    await fill(mailRoot);
    // Written straight into the mailbox as it arrives: when that fails, the client keeps the message.
    expectTransientStorage(await send('alice@example.org', { bodyLines: 200 }));
    expect(listMessages(mailRoot)).toHaveLength(before);
    expect(listMaildirTmp(mailRoot)).toEqual([]);
    expect(deferredEnvelopes()).toEqual([]);
    expectNoPartialFiles();
  });

  it('disk errors: a full maildir defers the recipients of a spooled message in the queue, durably, with no file in tmp/ or new/', async () => {
    const before = listMessages(mailRoot).length;
    const result = await send(['alice@example.org', 'bob@example.org'], { bodyLines: 200 });
    // Two mailboxes: the message is spooled, and with the queue still having room its recipients
    // are recorded as deferred (452 4.3.1) before the 250.
    expect(result.reply.code, result.reply.last).toBe(250);
    deferredToken = `disk-${counter}`;
    expect(listMessages(mailRoot)).toHaveLength(before);
    expect(listMaildirTmp(mailRoot)).toEqual([]);
    const [envelope, ...others] = deferredEnvelopes();
    expect(others).toEqual([]);
    expect(envelope?.queueId).toBe(result.queueId);
    for (const r of envelope?.recipients ?? []) expect(r).toMatchObject({ status: 'deferred', lastReply: { code: 452, enhancedCode: '4.3.1' } });
    expect(envelope?.recipients.map((r) => r.address)).toEqual(['alice@example.org', 'bob@example.org']);
    expectNoPartialFiles();
  });

  it('disk errors: maildir and queue both full give 452 4.3.1 and leave nothing partial', async () => {
    await fill(queueRoot);
    const files = listMessages(mailRoot).length;
    expectTransientStorage(await send('alice@example.org', { bodyLines: 200 }));
    expectTransientStorage(await send('newuser@example.com', { bodyLines: 200 }));
    expect(listMessages(mailRoot)).toHaveLength(files);
    expect(listMaildirTmp(mailRoot)).toEqual([]);
    expect(listQueueFolder(queueRoot, 'tmp')).toEqual([]);
    expect(listQueueFolder(queueRoot, 'incoming')).toEqual([]);
    expect(deferredEnvelopes()).toHaveLength(1);
    expectNoPartialFiles();
  });

  it('disk errors: a relayed message on a full queue gets 452 4.3.1 and nothing stays in incoming/ or tmp/', async () => {
    expectTransientStorage(await send('dave@remote.test', { bodyLines: 200, localAddress: '127.0.0.2' }));
    expect(listQueueFolder(queueRoot, 'incoming')).toEqual([]);
    expect(listQueueFolder(queueRoot, 'tmp')).toEqual([]);
  });

  it('disk errors: after freeing space new mail is delivered and the deferred message exactly once', async () => {
    unlinkSync(path.join(mailRoot, 'filler'));
    unlinkSync(path.join(queueRoot, 'filler'));
    const result = await send('alice@example.org');
    expect(result.reply.code, result.reply.last).toBe(250);
    expect(delivered(`disk-${counter}`)).toBe(1);
    const relayed = await send('dave@remote.test', { localAddress: '127.0.0.2' });
    expect(relayed.reply.code, relayed.reply.last).toBe(250);
    expect([...listQueueFolder(queueRoot, 'incoming'), ...listQueueFolder(queueRoot, 'deferred')]).toContain(`m.${relayed.queueId}`);
    await waitFor('the deferred message to be delivered', () => deferredEnvelopes().length === 0, 30_000);
    expect(delivered(deferredToken)).toBe(2); // one file in each of the two mailboxes
    expectNoPartialFiles();
  });

  it('disk errors: an unwritable maildir root gives 452 4.3.1 at RCPT and a log line', async () => {
    // Under the tmpfs lies the directory we made: root's, 0755, so the service user cannot write.
    await unmount(mailRoot);
    const result = await send('alice@example.org');
    expect(result.stage).toBe('RCPT');
    expectTransientStorage(result);
    await waitFor('the log line', () => /maildir root unusable.*EACCES|EACCES.*maildir root unusable/.test(server?.output() ?? ''));
  });

  it('disk errors: a missing maildir root gives 452 4.3.1 at RCPT and a log line', async () => {
    rmdirSync(mailRoot);
    expect(existsSync(mailRoot)).toBe(false);
    const result = await send('bob@example.org');
    expect(result.stage).toBe('RCPT');
    expectTransientStorage(result);
    await waitFor('the log line', () => /maildir root unusable.*ENOENT|ENOENT.*maildir root unusable/.test(server?.output() ?? ''));
  });
});
