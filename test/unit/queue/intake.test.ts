import { lstat, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageWriter } from '../../../src/server/message-sink.js';
import { cleanTempDirs, incoming, SAMPLE_MESSAGE, tempDir, testConfig, testLogger , testMail } from './fixtures.js';

afterEach(cleanTempDirs);

async function setup(overrides: Parameters<typeof testConfig>[1] = {}) {
  const root = await tempDir('intake');
  const config = testConfig(root, overrides);
  await mkdir(config.maildir.root);
  const logger = testLogger();
  const mail = testMail(config, logger, { allowRoot: true });
  await mail.recover();
  return { root, config, logger, mail };
}

async function send(writer: MessageWriter, text = SAMPLE_MESSAGE): Promise<void> {
  writer.body.write(Buffer.from(text));
  writer.body.end();
}

describe('intake', () => {
  it('intake delivers a single local recipient into new/ with Return-Path and Delivered-To, LF line ends', async () => {
    const { config, mail } = await setup();
    const writer = await mail.sink.open(incoming(['Bob+news@Example.ORG']));
    await send(writer);
    const result = await writer.commit();
    expect(result).toEqual({ ok: true, queueId: writer.queueId });
    const newDir = join(config.maildir.root, 'example.org', 'bob', 'new');
    const [name] = await readdir(newDir);
    const text = await readFile(join(newDir, name ?? ''), 'utf8');
    expect(text.startsWith('Return-Path: <alice@remote.test>\nDelivered-To: Bob+news@Example.ORG\nReceived:')).toBe(true);
    expect(text).not.toContain('\r');
    expect(name).toMatch(new RegExp(`,S=${Buffer.byteLength(text)}$`));
    // Nothing left in the queue: every recipient was local and delivered.
    expect(await readdir(join(config.queue.root, 'incoming'))).toEqual([]);
    expect(await readdir(join(config.queue.root, 'tmp'))).toEqual([]);
  });

  it('intake queues remote recipients durably before resolving', async () => {
    const { config, mail } = await setup();
    const writer = await mail.sink.open(incoming(['carol@remote.test', 'bob@example.org']));
    await send(writer);
    const result = await writer.commit();
    expect(result.ok).toBe(true);
    const dir = join(config.queue.root, 'incoming', `m.${writer.queueId}`);
    expect((await stat(join(dir, 'data'))).size).toBe(Buffer.byteLength(SAMPLE_MESSAGE));
    const envelope = JSON.parse(await readFile(join(dir, 'envelope'), 'utf8'));
    expect(envelope.version).toBe(1);
    expect(envelope.recipients.map((r: { status: string }) => r.status)).toEqual(['pending', 'delivered']);
    expect(envelope.attempts).toBe(1);
    expect((await lstat(join(config.maildir.root, 'example.org', 'bob', 'new'))).isDirectory()).toBe(true);
  });

  it('intake writes one file hard-linked into every local mailbox, without Delivered-To', async () => {
    const { config, mail } = await setup();
    const writer = await mail.sink.open(incoming(['bob@example.org', 'dave@example.org', 'erin@example.net']));
    await send(writer);
    expect((await writer.commit()).ok).toBe(true);
    const inodes = new Set<number>();
    for (const [domain, user] of [['example.org', 'bob'], ['example.org', 'dave'], ['example.net', 'erin']] as const) {
      const newDir = join(config.maildir.root, domain, user, 'new');
      const [name] = await readdir(newDir);
      const info = await stat(join(newDir, name ?? ''));
      expect(info.nlink).toBe(3);
      inodes.add(info.ino);
      const text = await readFile(join(newDir, name ?? ''), 'utf8');
      expect(text).not.toContain('Delivered-To');
      expect(name).toMatch(new RegExp(`,S=${info.size}$`));
    }
    expect(inodes.size).toBe(1);
  });

  it('intake abort leaves nothing behind', async () => {
    const { config, mail } = await setup();
    const writer = await mail.sink.open(incoming(['carol@remote.test']));
    writer.body.write(Buffer.from('partial'));
    await writer.abort();
    expect(await readdir(join(config.queue.root, 'tmp'))).toEqual([]);
    expect(await readdir(join(config.queue.root, 'incoming'))).toEqual([]);
  });
});
