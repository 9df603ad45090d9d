import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/types.js';
import { fill, mountTmpfs, unmount } from '../maildir/tmpfs.js';
import { cleanTempDirs, incoming, SAMPLE_MESSAGE, tempDir, testConfig, testLogger , testMail } from './fixtures.js';

afterEach(cleanTempDirs);

const BIG_MESSAGE = SAMPLE_MESSAGE + ('x'.repeat(998) + '\r\n').repeat(100);

async function build(config: Config, nowMs = () => Date.now()) {
  const logger = testLogger();
  const mail = testMail(config, logger, { allowRoot: true, nowMs });
  await mail.recover();
  return { mail, logger };
}

/** Every regular file under a directory, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Runs a test with a 256 KiB tmpfs mounted at a fresh directory; skips when mounting is refused. */
async function withTmpfs(ctx: { skip: () => void }, body: (mount: string) => Promise<void>): Promise<void> {
  const mount = await tempDir('intake-tmpfs');
  if (!(await mountTmpfs(mount, 256))) return ctx.skip();
  try {
    await body(mount);
  } finally {
    await unmount(mount);
  }
}

describe('intake error paths', () => {
  it('intake answers 452 4.3.1 and leaves no file when both Maildir and queue are full', async (ctx) => {
    await withTmpfs(ctx, async (mount) => {
      const config = testConfig(mount);
      await mkdir(config.maildir.root);
      const { mail } = await build(config);
      const first = await mail.sink.open(incoming(['bob@example.org']));
      first.body.end(Buffer.from(SAMPLE_MESSAGE));
      expect((await first.commit()).ok).toBe(true); // creates bob's mailbox
      const writer = await mail.sink.open(incoming(['bob@example.org', 'carol@remote.test']));
      writer.body.end(Buffer.from(BIG_MESSAGE));
      await new Promise((resolve) => writer.body.once('finish', resolve));
      await fill(config.maildir.root);
      expect(await writer.commit()).toEqual({ ok: false, reply: expect.objectContaining({ code: 452, enhancedCode: '4.3.1' }) });
      const bobFiles = await filesUnder(join(config.maildir.root, 'example.org', 'bob'));
      expect(bobFiles).toHaveLength(1); // the first message only
      for (const state of ['incoming', 'deferred', 'bounce', 'tmp']) expect(await readdir(join(config.queue.root, state))).toEqual([]);
    });
  });

  it('intake answers 452 4.3.1 when the spool cannot be written, and keeps nothing', async (ctx) => {
    await withTmpfs(ctx, async (mount) => {
      const config = testConfig(mount);
      const { mail, logger } = await build(config);
      await fill(mount);
      const writer = await mail.sink.open(incoming(['carol@remote.test'])).catch((err: { reply?: unknown }) => err);
      if ('commit' in writer) {
        writer.body.end(Buffer.from(BIG_MESSAGE));
        expect(await writer.commit()).toMatchObject({ ok: false, reply: { code: 452, enhancedCode: '4.3.1' } });
      } else {
        expect(writer.reply).toMatchObject({ code: 452, enhancedCode: '4.3.1' });
      }
      expect(await readdir(join(config.queue.root, 'tmp'))).toEqual([]);
      expect(await readdir(join(config.queue.root, 'incoming'))).toEqual([]);
      expect(logger.lines.some((l) => l.level === 'error')).toBe(true);
    });
  });

  it('intake refuses a message for one mailbox on a full Maildir with 452 and leaves nothing behind', async (ctx) => {
    await withTmpfs(ctx, async (mount) => {
      const config = { ...testConfig(await tempDir('intake-queue')), maildir: { ...testConfig(mount).maildir, root: mount } };
      const { mail } = await build(config);
      const first = await mail.sink.open(incoming(['bob@example.org']));
      first.body.end(Buffer.from(SAMPLE_MESSAGE));
      expect((await first.commit()).ok).toBe(true);
      await fill(mount);
      // Written straight into the mailbox: nothing to retry from, so the client keeps it.
      const writer = await mail.sink.open(incoming(['bob@example.org']));
      writer.body.end(Buffer.from(BIG_MESSAGE));
      expect(await writer.commit()).toEqual({ ok: false, reply: expect.objectContaining({ code: 452, enhancedCode: '4.3.1' }) });
      const box = join(mount, 'example.org', 'bob');
      expect(await readdir(join(box, 'new'))).toHaveLength(1);
      expect(await readdir(join(box, 'tmp'))).toEqual([]);
      expect(await mail.store.find(writer.queueId)).toBeUndefined();
    });
  });

  it('intake defers the local recipients of a spooled message whose Maildir is full, and the runner delivers them later exactly once', async (ctx) => {
    await withTmpfs(ctx, async (mount) => {
      const config = { ...testConfig(await tempDir('intake-queue')), maildir: { ...testConfig(mount).maildir, root: mount } };
      let now = Date.parse('2025-01-02T03:04:05.000Z');
      const { mail } = await build(config, () => now);
      const first = await mail.sink.open(incoming(['bob@example.org']));
      first.body.end(Buffer.from(SAMPLE_MESSAGE));
      await first.commit();
      await fill(mount);
      // Two mailboxes: spooled in the queue, then delivered from there.
      const writer = await mail.sink.open(incoming(['bob@example.org', 'carol@example.org']));
      writer.body.end(Buffer.from(BIG_MESSAGE));
      expect(await writer.commit()).toEqual({ ok: true, queueId: writer.queueId });
      const loaded = await mail.store.load('deferred', writer.queueId);
      expect(loaded.ok && loaded.message.envelope.recipients.map((r) => r.status === 'deferred' && r.lastReply.code)).toEqual([452, 452]);
      const box = join(mount, 'example.org', 'bob');
      expect(await readdir(join(box, 'new'))).toHaveLength(1);
      expect(await readdir(join(box, 'tmp'))).toEqual([]);
      await rm(join(mount, 'filler'));
      now += config.relay.retryMinIntervalMs;
      expect(await mail.runner.runOnce()).toBe(2);
      expect(await readdir(join(box, 'new'))).toHaveLength(2);
      expect(await readdir(join(mount, 'example.org', 'carol', 'new'))).toHaveLength(1);
      expect(await mail.store.find(writer.queueId)).toBeUndefined();
      expect(await mail.runner.runOnce()).toBe(0);
    });
  });
});

describe('intake permanent local failures', () => {
  it('intake queues a permanent local failure in bounce/ for a DSN, and drops it for the null sender', async () => {
    const config = testConfig(await tempDir('intake-bounce'), { createMailboxes: false });
    await mkdir(config.maildir.root);
    const { mail } = await build(config);
    const writer = await mail.sink.open(incoming(['ghost@example.org']));
    writer.body.end(Buffer.from(SAMPLE_MESSAGE));
    expect((await writer.commit()).ok).toBe(true);
    const loaded = await mail.store.load('bounce', writer.queueId);
    expect(loaded.ok && loaded.message.envelope.recipients[0]).toMatchObject({ status: 'failed', lastReply: { code: 550 } });
    const nullSender = await mail.sink.open(incoming(['ghost@example.org'], ''));
    nullSender.body.end(Buffer.from(SAMPLE_MESSAGE));
    expect((await nullSender.commit()).ok).toBe(true);
    expect(await mail.store.find(nullSender.queueId)).toBeUndefined();
  });
});
