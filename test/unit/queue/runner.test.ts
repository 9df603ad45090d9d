import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AliasEntry } from '../../../src/queue/aliases.js';
import type { Deliverer, DeliveryOutcome, LocalDeliverer } from '../../../src/queue/deliverer.js';
import { recoverQueue } from '../../../src/queue/recovery.js';
import { Router } from '../../../src/queue/router.js';
import { QueueRunner } from '../../../src/queue/runner.js';
import { QueueStore } from '../../../src/queue/store.js';
import { cleanTempDirs, enqueue, incoming, SAMPLE_MESSAGE, tempDir, testConfig, testLogger, testMail } from './fixtures.js';

afterEach(cleanTempDirs);

const retry = { retryMinIntervalMs: 300_000, retryMaxIntervalMs: 3_600_000, maxQueueLifetimeMs: 86_400_000 };
const arrivedMs = Date.parse('2025-01-02T03:04:05.000Z');
const deferred = (address: string, at = arrivedMs) => ({
  address,
  status: 'deferred' as const,
  lastReply: { code: 452, enhancedCode: '4.3.1', lines: ['Insufficient system storage'] },
  nextAttemptAt: new Date(at).toISOString(),
});

async function runnerWith(outcomes: DeliveryOutcome[], nowMs: () => number, aliases: AliasEntry[] = []) {
  const store = new QueueStore(join(await tempDir('runner'), 'spool'));
  await recoverQueue(store);
  const calls: string[] = [];
  const placed = new Set<string>();
  const local: LocalDeliverer = {
    deliver: async (_message, recipients, onIntent) => {
      calls.push(...recipients);
      await onIntent?.(recipients.map((r) => `/mail/${r}/new/file`));
      return recipients.map(() => outcomes.shift() ?? { kind: 'delivered' });
    },
    checkRecipient: async () => undefined,
    isPlaced: async (file) => placed.has(file),
  };
  const router = new Router({ localDomains: ['example.org'], aliases });
  const logger = testLogger();
  const runner = new QueueRunner({ store, router, local, retry, logger, hostname: 'mx.example.org', nowMs });
  // Reads the queue into the runner's schedule, as at start, then runs what is due.
  const runOnce = async () => {
    await runner.rescan();
    return runner.runDue();
  };
  return { store, runner, calls, runOnce, placed, logger };
}

describe('runner', () => {
  it('runner retries a due local recipient, leaves remote ones pending, and records delivery', async () => {
    let now = arrivedMs + 1000;
    const { store, calls, runOnce } = await runnerWith([], () => now);
    const id = await enqueue(store, { recipients: [{ address: 'r@remote.test', status: 'pending' }, deferred('bob@example.org', arrivedMs + 60_000)] });
    expect(await runOnce()).toBe(0); // not due yet
    now = arrivedMs + 60_000;
    expect(await runOnce()).toBe(1);
    expect(calls).toEqual(['bob@example.org']);
    const loaded = await store.load('incoming', id);
    expect(loaded.ok && loaded.message.envelope.recipients.map((r) => r.status)).toEqual(['pending', 'delivered']);
    expect(loaded.ok && loaded.message.envelope.attempts).toBe(2);
  });

  it('runner backs off after another transient failure', async () => {
    const now = arrivedMs + 1000;
    const transient: DeliveryOutcome = { kind: 'transient', reply: { code: 451, enhancedCode: '4.3.0', lines: ['later'] } };
    const { store, runOnce } = await runnerWith([transient], () => now);
    const id = await enqueue(store, { recipients: [deferred('bob@example.org')], attempts: 1 });
    await runOnce();
    const loaded = await store.load('deferred', id);
    if (!loaded.ok) throw new Error(loaded.problem);
    expect(loaded.message.envelope.recipients[0]).toEqual({ ...deferred('bob@example.org', now + 600_000), lastReply: transient.reply });
  });

  it('runner gives up after max_queue_lifetime and queues a bounce (RFC 3464) to the sender in place of the message', async () => {
    const now = arrivedMs + retry.maxQueueLifetimeMs;
    const transient: DeliveryOutcome = { kind: 'transient', reply: { code: 452, enhancedCode: '4.3.1', lines: ['full'] } };
    const { store, runOnce, logger } = await runnerWith([transient], () => now);
    const id = await enqueue(store, { recipients: [deferred('bob@example.org')] });
    await runOnce();
    expect(logger.lines.filter((l) => l.level !== 'info')).toEqual([expect.objectContaining({ msg: 'delivery failed' })]);
    expect(await store.find(id)).toBeUndefined();
    const [bounceId] = await store.ids('incoming');
    const loaded = await store.load('incoming', bounceId ?? '');
    if (!loaded.ok) throw new Error(loaded.problem);
    expect(loaded.message.envelope).toMatchObject({ reversePath: '', recipients: [{ address: 'alice@remote.test', status: 'pending' }] });
    const text = await readFile(loaded.message.dataPath, 'utf8');
    expect(text).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);
    expect(text).toContain('Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 4.3.1\r\nDiagnostic-Code: smtp; 452 4.3.1 full\r\n');
    expect(text).toContain('Subject: hello'); // the original headers
  });

  it('runner bounces a failed recipient at once while another is still deferred, and only once', async () => {
    let now = arrivedMs;
    const permanent: DeliveryOutcome = { kind: 'permanent', reply: { code: 550, enhancedCode: '5.1.1', lines: ['no such user'] } };
    const transient: DeliveryOutcome = { kind: 'transient', reply: { code: 451, enhancedCode: '4.3.0', lines: ['later'] } };
    const { store, runOnce } = await runnerWith([permanent, transient], () => now);
    const id = await enqueue(store, { recipients: [deferred('gone@example.org'), deferred('slow@example.org')] });
    await runOnce();
    const bounces = async () => (await store.ids('incoming')).filter((b) => b !== id);
    expect(await bounces()).toHaveLength(1);
    const held = await store.load('deferred', id);
    if (!held.ok) throw new Error(held.problem);
    expect(held.message.envelope.recipients[0]).toMatchObject({ status: 'failed', bouncedAt: new Date(now).toISOString() });
    now += retry.retryMaxIntervalMs;
    await runOnce(); // slow@ is delivered now; the bounce's own recipient is not local, so it waits
    expect(await store.find(id)).toBeUndefined();
    expect(await bounces()).toHaveLength(1);
  });

  it('runner sends the bounce for a local alias sender to what the alias expands to, and the DSN names the original recipient and the remote host', async () => {
    const permanent: DeliveryOutcome = { kind: 'permanent', reply: { code: 550, enhancedCode: '5.1.1', lines: ['no such user'] }, remoteMta: 'mx.remote.test' };
    const aliases = [{ name: 'info', targets: ['bob@example.org', 'carol@example.org'], file: 'aliases', line: 1 }];
    const { store, runOnce } = await runnerWith([permanent], () => arrivedMs, aliases);
    const id = await enqueue(store, { reversePath: 'info@example.org', recipients: [{ ...deferred('gone@example.org'), originalRecipient: 'sales@example.org' }] });
    await runOnce();
    const [bounceId] = (await store.ids('incoming')).filter((b) => b !== id);
    const bounce = await store.load('incoming', bounceId ?? '');
    if (!bounce.ok) throw new Error(bounce.problem);
    expect(bounce.message.envelope.recipients).toEqual([
      { address: 'bob@example.org', originalRecipient: 'info@example.org', status: 'pending' },
      { address: 'carol@example.org', originalRecipient: 'info@example.org', status: 'pending' },
    ]);
    const text = await readFile(bounce.message.dataPath, 'utf8');
    expect(text).toContain(
      'Original-Recipient: rfc822; sales@example.org\r\nFinal-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.remote.test\r\n',
    );
  });

  it('runner keeps at most a few messages under way per remote destination, and other destinations move meanwhile', async () => {
    const { store } = await runnerWith([], () => arrivedMs);
    const started: string[] = [];
    const release: (() => void)[] = [];
    const remote: Deliverer = {
      deliver: async (_message, recipients) => {
        started.push(...recipients);
        await new Promise<void>((resolve) => release.push(resolve));
        return recipients.map(() => ({ kind: 'delivered' }));
      },
    };
    const router = new Router({ localDomains: ['example.org'] });
    const local = { deliver: async () => [], checkRecipient: async () => undefined, isPlaced: async () => false };
    const runner = new QueueRunner({ store, router, local, remote, retry, logger: testLogger(), hostname: 'mx.example.org', maxInFlightPerDestination: 2 });
    for (let i = 0; i < 5; i++) await enqueue(store, { recipients: [{ address: `u${i}@busy.test`, status: 'pending' }] });
    await enqueue(store, { recipients: [{ address: 'v@quiet.test', status: 'pending' }] });
    await runner.rescan();
    const run = runner.runDue();
    await vi.waitFor(() => expect(started).toHaveLength(3));
    expect(started.filter((r) => r.endsWith('@busy.test'))).toHaveLength(2);
    expect(started).toContain('v@quiet.test');
    for (const r of release.splice(0)) r();
    await run;
  });

  it('runner removes a message once every recipient is delivered', async () => {
    const { store, runOnce } = await runnerWith([], () => arrivedMs);
    const id = await enqueue(store, { recipients: [deferred('bob@example.org'), deferred('carol@example.org')] });
    expect(await runOnce()).toBe(2);
    expect(await store.find(id)).toBeUndefined();
  });

  it('runner delivers a recipient deferred at commit once the maildir root is back', async () => {
    const root = await tempDir('runner-maildir');
    const config = testConfig(root);
    let now = arrivedMs;
    const mail = testMail(config, testLogger(), { nowMs: () => now });
    await mail.recover();
    const writer = await mail.sink.open(incoming(['bob@example.org']));
    writer.body.end(Buffer.from(SAMPLE_MESSAGE));
    expect((await writer.commit()).ok).toBe(true); // maildir root missing: deferred in the queue
    expect(await mail.store.ids('deferred')).toEqual([writer.queueId]);
    await mkdir(config.maildir.root);
    now += retry.retryMinIntervalMs;
    expect(await mail.runner.runOnce()).toBe(1);
    expect(await mail.store.find(writer.queueId)).toBeUndefined();
    const newDir = join(config.maildir.root, 'example.org', 'bob', 'new');
    expect(await readdir(newDir)).toHaveLength(1);
  });

  it('runner records the file a local delivery is about to publish, and after a crash counts it as delivered', async () => {
    const { store, calls, runOnce, placed } = await runnerWith([], () => arrivedMs);
    const id = await enqueue(store, { recipients: [deferred('bob@example.org')] });
    // A crash right after the files were announced: the deliverer never returns.
    const crashing = new QueueRunner({
      store,
      router: new Router({ localDomains: ['example.org'] }),
      local: {
        deliver: async (_m, recipients, onIntent) => {
          await onIntent?.(recipients.map((r) => `/mail/${r}/new/file`));
          throw new Error('killed');
        },
        checkRecipient: async () => undefined,
        isPlaced: async () => false,
      },
      retry,
      logger: testLogger(),
      hostname: 'mx.example.org',
      nowMs: () => arrivedMs,
    });
    await crashing.rescan();
    await crashing.runDue();
    const saved = await store.load('deferred', id);
    expect(saved.ok && saved.message.envelope.recipients[0]).toMatchObject({ status: 'deferred', maildirFile: '/mail/bob@example.org/new/file' });
    // The file did reach the mailbox before the crash: the restarted runner does not write it again.
    placed.add('/mail/bob@example.org/new/file');
    expect(await runOnce()).toBe(1);
    expect(calls).toEqual([]);
    expect(await store.find(id)).toBeUndefined();
  });

  it('runner delivers again when the announced file never reached the mailbox', async () => {
    const { store, calls, runOnce } = await runnerWith([], () => arrivedMs);
    await enqueue(store, { recipients: [{ ...deferred('bob@example.org'), maildirFile: '/mail/bob@example.org/new/lost' }] });
    expect(await runOnce()).toBe(1);
    expect(calls).toEqual(['bob@example.org']);
  });

  it('runner delivers other messages while one delivery hangs', async () => {
    const store = new QueueStore(join(await tempDir('runner-slow'), 'spool'));
    await recoverQueue(store);
    let release: (() => void) | undefined;
    const delivered: string[] = [];
    const local: LocalDeliverer = {
      deliver: async (_m, recipients) => {
        if (recipients.includes('slow@example.org')) await new Promise<void>((resolve) => (release = resolve));
        delivered.push(...recipients);
        return recipients.map(() => ({ kind: 'delivered' }));
      },
      checkRecipient: async () => undefined,
      isPlaced: async () => false,
    };
    const runner = new QueueRunner({ store, router: new Router({ localDomains: ['example.org'] }), local, retry, logger: testLogger(), hostname: 'mx.example.org', nowMs: () => arrivedMs });
    await enqueue(store, { recipients: [deferred('slow@example.org')] });
    await enqueue(store, { recipients: [deferred('fast@example.org')] });
    runner.start();
    const deadline = Date.now() + 5000;
    // Both under way: the slow one waits inside its delivery, the fast one is done.
    while ((!delivered.includes('fast@example.org') || !release) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(delivered).toEqual(['fast@example.org']);
    release?.();
    await runner.stop();
    expect(delivered).toEqual(['fast@example.org', 'slow@example.org']);
  });

  it('runner start and stop scan on a timer and stop cleanly', async () => {
    const { store, runner, calls } = await runnerWith([], () => arrivedMs);
    await enqueue(store, { recipients: [deferred('bob@example.org')] });
    runner.start();
    const deadline = Date.now() + 5000;
    while (calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    expect(calls).toEqual(['bob@example.org']);
  });
});
