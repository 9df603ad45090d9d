import { closeSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recoverQueue } from '../../../src/queue/recovery.js';
import { QueueStore } from '../../../src/queue/store.js';
import { folderFor } from '../../../src/queue/states.js';
import { cleanTempDirs, enqueue, sampleEnvelope, SAMPLE_MESSAGE, tempDir, testLogger } from './fixtures.js';

afterEach(cleanTempDirs);

async function setup() {
  const root = join(await tempDir('store'), 'spool');
  const logger = testLogger();
  const store = new QueueStore(root, logger);
  await recoverQueue(store, logger);
  return { root, store, logger };
}

const deferredOnly = sampleEnvelope().recipients.slice(2, 3);
const pendingOnly = sampleEnvelope().recipients.slice(0, 1);
const failedOnly = sampleEnvelope().recipients.slice(3, 4);

describe('store', () => {
  it('store creates tmp/ incoming/ deferred/ bounce/ corrupt/', async () => {
    const { root } = await setup();
    expect((await readdir(root)).sort()).toEqual(['bounce', 'corrupt', 'deferred', 'incoming', 'tmp']);
  });

  it('store commits data and envelope into the folder the recipients call for', async () => {
    const { root, store } = await setup();
    const id = await enqueue(store);
    expect(await readdir(join(root, 'deferred'))).toEqual([`m.${id}`]);
    expect(await readFile(join(root, 'deferred', `m.${id}`, 'data'), 'utf8')).toBe(SAMPLE_MESSAGE);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    const loaded = await store.load('deferred', id);
    expect(loaded.ok && loaded.message.envelope.queueId).toBe(id);
  });

  it('store maps envelopes to folders: deferred, incoming, bounce, done', () => {
    expect(folderFor(sampleEnvelope())).toBe('deferred');
    expect(folderFor(sampleEnvelope({ recipients: pendingOnly }))).toBe('incoming');
    expect(folderFor(sampleEnvelope({ recipients: failedOnly }))).toBe('bounce');
    expect(folderFor(sampleEnvelope({ recipients: failedOnly, reversePath: '' }))).toBe('done');
  });

  it('store update rewrites the envelope and moves the message between folders', async () => {
    const { root, store } = await setup();
    const id = await enqueue(store, { recipients: deferredOnly });
    const loaded = await store.load('deferred', id);
    if (!loaded.ok) throw new Error(loaded.problem);
    expect(await store.update(loaded.message, { ...loaded.message.envelope, recipients: pendingOnly })).toBe('incoming');
    expect(await readdir(join(root, 'deferred'))).toEqual([]);
    expect(await readdir(join(root, 'incoming', `m.${id}`))).toEqual(['data', 'envelope']);
    const moved = await store.load('incoming', id);
    expect(moved.ok && moved.message.envelope.recipients).toEqual(pendingOnly);
  });

  it('store update removes a message with nothing left to do', async () => {
    const { root, store } = await setup();
    const id = await enqueue(store, { recipients: deferredOnly });
    const loaded = await store.load('deferred', id);
    if (!loaded.ok) throw new Error(loaded.problem);
    const delivered = [{ address: 'c@example.org', status: 'delivered' as const, deliveredAt: '2025-01-02T04:00:00.000Z' }];
    expect(await store.update(loaded.message, { ...loaded.message.envelope, recipients: delivered })).toBe('done');
    expect(await store.find(id)).toBeUndefined();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('store recover removes leftovers in tmp/ and resumes live messages', async () => {
    const { root, store, logger } = await setup();
    const id = await enqueue(store);
    closeSync((await store.createSpool()).fd); // an interrupted reception
    await writeFile(join(root, 'tmp', 'stray'), 'x');
    await writeFile(join(root, 'deferred', `m.${id}`, 't.envelope.XYZ'), '{"half":');
    const report = await recoverQueue(store, logger);
    expect(report.removedTemp).toBe(2);
    expect(report.resumed).toBe(1);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await readdir(join(root, 'deferred', `m.${id}`))).toEqual(['data', 'envelope']);
  });

  it('store recover moves a corrupt envelope aside with its data and logs it, without throwing', async () => {
    const { root, store, logger } = await setup();
    await enqueue(store);
    const bad = await enqueue(store);
    await writeFile(join(root, 'deferred', `m.${bad}`, 'envelope'), '{"version": 1, "queueId": ');
    await mkdir(join(root, 'incoming', 'not-a-message'));
    const report = await recoverQueue(store, logger);
    expect(report.resumed).toBe(1);
    expect(report.quarantined).toHaveLength(2);
    const corrupt = await readdir(join(root, 'corrupt'));
    const moved = corrupt.find((n) => n.startsWith(`m.${bad}.`));
    expect(moved).toBeDefined();
    expect(await readFile(join(root, 'corrupt', moved ?? '', 'data'), 'utf8')).toBe(SAMPLE_MESSAGE);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg === 'invalid envelope')).toBe(true);
  });

  it('store recover moves aside a message whose data file is missing', async () => {
    const { root, store, logger } = await setup();
    const id = await enqueue(store);
    await unlink(join(root, 'deferred', `m.${id}`, 'data'));
    const report = await recoverQueue(store, logger);
    expect(report.resumed).toBe(0);
    expect(report.quarantined).toHaveLength(1);
  });

  it('store remove takes a message out atomically', async () => {
    const { root, store } = await setup();
    const id = await enqueue(store);
    await store.remove('deferred', id);
    expect(await readdir(join(root, 'deferred'))).toEqual([]);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });
});
