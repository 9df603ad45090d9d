import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryAsRootError, Maildir } from '../../../src/maildir/maildir.js';
import { cleanTempDirs, tempDir, testLogger } from '../queue/fixtures.js';
import { fill, mountTmpfs, remount, unmount } from './tmpfs.js';

afterEach(cleanTempDirs);

async function setup(options: { createMailboxes?: boolean; root?: string } = {}) {
  const dir = await tempDir('maildir');
  const root = options.root ?? join(dir, 'mail');
  if (options.root === undefined) await mkdir(root);
  const logger = testLogger();
  const maildir = new Maildir({
    root,
    recipientDelimiter: '+',
    createMailboxes: options.createMailboxes ?? true,
    allowRoot: true,
    logger,
  });
  const dataPath = join(dir, 'data');
  await writeFile(dataPath, 'Subject: hi\r\n\r\nbody\r\n');
  return { dir, root, maildir, logger, message: { dataPath, reversePath: 'alice@remote.test' } };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('maildir', () => {
  it('maildir refuses to run as root unless allowRoot is passed', () => {
    const make = () => new Maildir({ root: '/nonexistent', recipientDelimiter: '', logger: testLogger() });
    if (process.getuid?.() === 0) expect(make).toThrow(DeliveryAsRootError);
    else expect(make).not.toThrow();
  });

  it('maildir creates the mailbox with tmp/ new/ cur/ and .Drafts .Sent .Trash, mode 0700', async () => {
    const { root, maildir, message } = await setup();
    expect(await maildir.deliver(message, ['bob@example.org'])).toEqual([{ kind: 'delivered' }]);
    const box = join(root, 'example.org', 'bob');
    for (const sub of ['', 'tmp', 'new', 'cur', '.Drafts', '.Drafts/tmp', '.Drafts/new', '.Drafts/cur', '.Sent/cur', '.Trash/new']) {
      const info = await stat(join(box, sub));
      expect(info.isDirectory(), sub).toBe(true);
      expect(info.mode & 0o777, sub).toBe(0o700);
    }
    expect(await readdir(join(box, 'tmp'))).toEqual([]);
    expect((await readdir(join(box, 'new'))).length).toBe(1);
    expect((await readdir(join(root, 'example.org'))).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('maildir names the one recipient in Delivered-To even when another was refused', async () => {
    const { root, maildir, message } = await setup();
    const results = await maildir.deliver({ ...message, reversePath: '' }, ['../x@example.org', 'Bob@example.org']);
    expect(results.map((r) => r.kind)).toEqual(['permanent', 'delivered']);
    const newDir = join(root, 'example.org', 'bob', 'new');
    const [name] = await readdir(newDir);
    const text = await readFile(join(newDir, name ?? ''), 'utf8');
    expect(text).toBe('Return-Path: <>\nDelivered-To: Bob@example.org\nSubject: hi\n\nbody\n');
  });

  it('maildir checkRecipient answers 550 5.1.1 for a missing mailbox when create_mailboxes is off', async () => {
    const { root, maildir } = await setup({ createMailboxes: false });
    expect(await maildir.checkRecipient('nobody@example.org')).toMatchObject({ code: 550, enhancedCode: '5.1.1' });
    await mkdir(join(root, 'example.org', 'bob'), { recursive: true });
    expect(await maildir.checkRecipient('Bob+tag@example.org')).toBeUndefined();
  });

  it('maildir deliver fails permanently for a missing mailbox when create_mailboxes is off', async () => {
    const { maildir, message } = await setup({ createMailboxes: false });
    const [result] = await maildir.deliver(message, ['nobody@example.org']);
    expect(result).toMatchObject({ kind: 'permanent', reply: { code: 550, enhancedCode: '5.1.1' } });
  });

  it('maildir checkRecipient answers 550 5.1.3 for an unsafe local part', async () => {
    const { maildir } = await setup();
    expect(await maildir.checkRecipient('../x@example.org')).toMatchObject({ code: 550, enhancedCode: '5.1.3' });
  });

  it('maildir reports a missing root as 452 4.3.1 and a transient delivery', async () => {
    const dir = await tempDir('maildir-missing');
    const { maildir, message } = await setup({ root: join(dir, 'absent') });
    expect(await maildir.checkRecipient('bob@example.org')).toMatchObject({ code: 452, enhancedCode: '4.3.1' });
    expect(await maildir.deliver(message, ['bob@example.org'])).toMatchObject([{ kind: 'transient', reply: { code: 452 } }]);
  });

  it('maildir reports a file where the root should be as 452 4.3.1 and a transient delivery', async () => {
    const dir = await tempDir('maildir-file');
    await writeFile(join(dir, 'file'), 'not a directory');
    const { maildir, message } = await setup({ root: join(dir, 'file') });
    expect(await maildir.checkRecipient('bob@example.org')).toMatchObject({ code: 452, enhancedCode: '4.3.1' });
    expect(await maildir.deliver(message, ['bob@example.org'])).toMatchObject([{ kind: 'transient' }]);
  });

  it('maildir delivers to the other mailboxes when one of them is broken', async () => {
    const { root, maildir, message } = await setup();
    await maildir.deliver(message, ['bob@example.org', 'carol@example.org']);
    // carol's new/ replaced by a file: her rename fails, bob still gets the message.
    const carolNew = join(root, 'example.org', 'carol', 'new');
    await rm(carolNew, { recursive: true });
    await writeFile(carolNew, 'x');
    const results = await maildir.deliver(message, ['carol@example.org', 'bob@example.org']);
    expect(results.map((r) => r.kind)).toEqual(['transient', 'delivered']);
    expect(await readdir(join(root, 'example.org', 'carol', 'tmp'))).toEqual([]);
    expect((await readdir(join(root, 'example.org', 'bob', 'new'))).length).toBe(2);
  });
});

describe('maildir on a small tmpfs', () => {
  it('maildir leaves no partial file when the disk is full, and reports a transient failure', async (ctx) => {
    const mount = await tempDir('maildir-full');
    if (!(await mountTmpfs(mount, 256))) return ctx.skip();
    try {
      const { maildir, message, logger } = await setup({ root: mount });
      expect(await maildir.deliver(message, ['bob@example.org'])).toEqual([{ kind: 'delivered' }]);
      await writeFile(message.dataPath, 'Subject: big\r\n\r\n' + 'x'.repeat(998) + '\r\n'.repeat(200));
      await fill(mount);
      const results = await maildir.deliver(message, ['bob@example.org', 'carol@example.org']);
      expect(results.map((r) => r.kind)).toEqual(['transient', 'transient']);
      expect(results[0]).toMatchObject({ reply: { code: 452, enhancedCode: '4.3.1' } });
      const files = (await filesUnder(join(mount, 'example.org'))).filter((f) => !f.endsWith('filler'));
      expect(files.length).toBe(1); // only the first, earlier delivery
      expect(logger.lines.some((l) => l.level === 'warn' && JSON.stringify(l.obj).includes('ENOSPC'))).toBe(true);
    } finally {
      await unmount(mount);
    }
  });

  it('maildir reports a read-only file system as transient and leaves nothing behind', async (ctx) => {
    const mount = await tempDir('maildir-ro');
    if (!(await mountTmpfs(mount, 256))) return ctx.skip();
    try {
      const { maildir, message } = await setup({ root: mount });
      await maildir.deliver(message, ['bob@example.org']);
      await remount(mount, 'ro');
      expect(await maildir.deliver(message, ['bob@example.org'])).toMatchObject([{ kind: 'transient' }]);
      expect((await readdir(join(mount, 'example.org', 'bob', 'new'))).length).toBe(1);
      expect(await readdir(join(mount, 'example.org', 'bob', 'tmp'))).toEqual([]);
    } finally {
      await unmount(mount);
    }
  });

  it('maildir announces each final path before any copy is visible, then publishes them', async () => {
    const { root, maildir, message } = await setup();
    let seen: readonly (string | undefined)[] = [];
    const results = await maildir.deliver(message, ['bob@example.org', 'carol@example.org', '../x@example.org'], async (files) => {
      seen = files;
      for (const f of files) if (f) expect(await maildir.isPlaced(f)).toBe(false);
    });
    expect(results.map((r) => r.kind)).toEqual(['delivered', 'delivered', 'permanent']);
    expect(seen[0]?.startsWith(join(root, 'example.org', 'bob', 'new'))).toBe(true);
    expect(seen[2]).toBeUndefined();
    expect(await maildir.isPlaced(seen[0] ?? '')).toBe(true);
    expect(await maildir.isPlaced(seen[1] ?? '')).toBe(true);
  });

  it('maildir publishes nothing when recording the intent fails, and leaves tmp/ clean', async () => {
    const { root, maildir, message } = await setup();
    const results = await maildir.deliver(message, ['bob@example.org'], () => Promise.reject(Object.assign(new Error('disk'), { code: 'EIO' })));
    expect(results.map((r) => r.kind)).toEqual(['transient']);
    expect(await filesUnder(join(root, 'example.org', 'bob'))).toEqual([]);
  });

  it('maildir counts an announced file as placed once a reader moved it to cur/', async () => {
    const { root, maildir, message } = await setup();
    let file = '';
    await maildir.deliver(message, ['bob@example.org'], async (files) => void (file = files[0] ?? ''));
    const box = join(root, 'example.org', 'bob');
    const [name] = await readdir(join(box, 'new'));
    await rename(join(box, 'new', name ?? ''), join(box, 'cur', `${name ?? ''}:2,S`));
    expect(await maildir.isPlaced(file)).toBe(true);
    expect(await maildir.isPlaced(`${file}x`)).toBe(false);
  });

  it('maildir removes tmp/ leftovers older than 36 hours at delivery, at most once a day per mailbox', async () => {
    const { root, message } = await setup();
    let now = Date.now();
    const maildir = new Maildir({ root, recipientDelimiter: '+', createMailboxes: true, allowRoot: true, logger: testLogger(), nowMs: () => now });
    await maildir.deliver(message, ['bob@example.org']);
    const tmp = join(root, 'example.org', 'bob', 'tmp');
    const old = join(tmp, 'old'), fresh = join(tmp, 'fresh');
    await writeFile(old, 'x');
    await writeFile(fresh, 'x');
    const age = (hours: number) => new Date(now - hours * 3600_000);
    await utimes(old, age(37), age(37));
    await utimes(fresh, age(35), age(35));
    await maildir.deliver(message, ['bob@example.org']);
    expect((await readdir(tmp)).sort()).toEqual(['fresh', 'old']); // swept less than a day ago
    now += 25 * 3600_000;
    await utimes(fresh, age(35), age(35));
    await maildir.deliver(message, ['bob@example.org']);
    expect(await readdir(tmp)).toEqual(['fresh']);
  });
});
