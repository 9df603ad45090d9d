import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatAge, queueCommand, runQueueCommand } from '../../../src/cli/queue-command.js';
import { recoverQueue } from '../../../src/queue/recovery.js';
import { QueueStore } from '../../../src/queue/store.js';
import { cleanTempDirs, enqueue, sampleEnvelope, tempDir, testConfig } from './fixtures.js';

afterEach(cleanTempDirs);

const nowMs = Date.parse('2025-01-02T05:04:05.000Z');

async function setup() {
  const root = join(await tempDir('queue-cli'), 'spool');
  const store = new QueueStore(root);
  await recoverQueue(store);
  const out: string[] = [];
  const err: string[] = [];
  const run = (...args: string[]) =>
    runQueueCommand(args, root, { out: (t) => void out.push(t), err: (t) => void err.push(t), nowMs: () => nowMs });
  return { root, store, run, out: () => out.join(''), err: () => err.join('') };
}

describe('queue command', () => {
  it('queue command list says the queue is empty', async () => {
    const { run, out } = await setup();
    expect(await run('list')).toBe(0);
    expect(out()).toBe('Mail queue is empty\n');
  });

  it('queue command list shows id, size, age, sender and each recipient with its state', async () => {
    const { store, run, out } = await setup();
    const id = await enqueue(store);
    expect(await run('list')).toBe(0);
    const text = out();
    expect(text).toMatch(new RegExp(`^${id}\\s+\\d+\\s+2h\\s+deferred\\s+<alice@remote.test>\\n`));
    expect(text).toContain('    a@remote.test  pending\n');
    expect(text).toContain('    b@example.org  delivered 2025-01-02T03:04:06.000Z\n');
    expect(text).toContain('    c@example.org  deferred, due now: 452 4.3.1 Insufficient system storage\n');
    expect(text).toContain('    d@example.org  failed: 550 5.1.1 unknown\n');
    expect(text).toMatch(/-- 1 message, \d+ bytes\n$/);
  });

  it('queue command show prints the envelope and the header section', async () => {
    const { store, run, out } = await setup();
    const id = await enqueue(store);
    expect(await run('show', id.toLowerCase())).toBe(0);
    expect(out()).toContain(`"queueId": "${id}"`);
    expect(out()).toContain('Subject: hello\n');
    expect(out()).not.toContain('Line one');
  });

  it('queue command delete removes the message', async () => {
    const { store, run } = await setup();
    const id = await enqueue(store);
    expect(await run('delete', id)).toBe(0);
    expect(await store.find(id)).toBeUndefined();
  });

  it('queue command flush makes every deferred recipient due now', async () => {
    const { store, run, out } = await setup();
    const id = await enqueue(store);
    await enqueue(store, { recipients: sampleEnvelope().recipients.slice(0, 1) });
    expect(await run('flush')).toBe(0);
    expect(out()).toContain('1 message flushed');
    const loaded = await store.load('deferred', id);
    const c = loaded.ok ? loaded.message.envelope.recipients[2] : undefined;
    expect(c?.status === 'deferred' && c.nextAttemptAt).toBe(new Date(nowMs).toISOString());
  });

  it('queue command reports an unknown id and exits 1', async () => {
    const { run, err } = await setup();
    expect(await run('show', 'XYZ')).toBe(1);
    expect(await run('delete', '0123456789ABCDEF')).toBe(1);
    expect(err()).toBe('mta: queue: no message "XYZ"\nmta: queue: no message "0123456789ABCDEF"\n');
  });

  it('queue command prints usage for a bad subcommand', async () => {
    const { run, err } = await setup();
    expect(await run('frobnicate')).toBe(64);
    expect(await run('show')).toBe(64);
    expect(err()).toContain('usage: mta queue');
  });

  it('queue command takes the queue root from the config', async () => {
    const root = await tempDir('queue-cli-config');
    const config = testConfig(root);
    await recoverQueue(new QueueStore(config.queue.root));
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stdout.write;
    try {
      expect(await queueCommand(['list'], config)).toBe(0);
    } finally {
      process.stdout.write = original;
    }
    expect(written.join('')).toBe('Mail queue is empty\n');
  });

  it('queue command formats ages with the two largest units', () => {
    expect([0, 59_000, 61_000, 7_500_000, 90_061_000].map(formatAge)).toEqual(['0s', '59s', '1m 1s', '2h 5m', '1d 1h']);
  });
});
