// The maildrop pickup with the real intake and Maildir under a temp dir: files present at start
// and files dropped later are queued and removed; what can never be queued goes to corrupt/.
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMaildrop } from '../../../src/cli/wiring.js';
import { newDropName, serializeDrop } from '../../../src/queue/maildrop-file.js';
import type { Maildrop } from '../../../src/queue/maildrop.js';
import { QueueStore } from '../../../src/queue/store.js';
import { waitFor } from '../../helpers/process.js';
import { cleanTempDirs, tempDir, testConfig, testLogger } from './fixtures.js';

const running: Maildrop[] = [];
afterEach(async () => {
  for (const m of running.splice(0)) await m.stop();
  await cleanTempDirs();
});

async function setUp(options: { abandonedAfterMs?: number } = {}) {
  const root = await tempDir('maildrop');
  const config = testConfig(root);
  await new QueueStore(config.queue.root).init();
  mkdirSync(config.maildir.root);
  const logger = testLogger();
  const queued: string[] = [];
  const maildrop = buildMaildrop(config, logger, (id) => queued.push(id), { allowRoot: true, scanIntervalMs: 60_000, ...options });
  const dir = join(config.queue.root, 'maildrop');
  const drop = (recipients: string[], text = 'Subject: s\n\nhi\n', name = newDropName()) => {
    writeFileSync(join(dir, name), serializeDrop({ sender: null, fullName: null, recipients, extractRecipients: false }, Buffer.from(text)));
    return name;
  };
  const inbox = (user: string) => join(config.maildir.root, 'example.org', user, 'new');
  const start = async () => {
    running.push(maildrop);
    await maildrop.start();
  };
  return { config, logger, queued, dir, drop, inbox, start };
}

const count = (dir: string) => (existsSync(dir) ? readdirSync(dir).length : 0);

describe('maildrop', () => {
  it('maildrop queues the files found at start and removes them', async () => {
    const t = await setUp();
    mkdirSync(t.dir, { mode: 0o1733 });
    t.drop(['alice@example.org']);
    t.drop(['bob@example.org', 'carol@remote.test']);
    await t.start();
    expect(readdirSync(t.dir)).toEqual([]);
    expect(count(t.inbox('alice'))).toBe(1);
    expect(count(t.inbox('bob'))).toBe(1);
    expect(t.queued).toHaveLength(1); // carol@remote.test waits for the relay
    const text = readFileSync(join(t.inbox('alice'), readdirSync(t.inbox('alice'))[0] as string), 'utf8');
    expect(text).toMatch(/^Return-Path: <[^@]+@mx\.example\.org>\n(?:Delivered-To: .*\n)?Received: from local user \(uid \d+\)/);
    expect(t.logger.lines.filter((l) => l.msg === 'message accepted')).toHaveLength(2);
  });

  it('maildrop picks up a file dropped while it watches', async () => {
    const t = await setUp();
    await t.start();
    t.drop(['dave@example.org']);
    await waitFor('the delivery', () => readdirSync(t.dir).length === 0 && count(t.inbox('dave')) === 1);
  });

  it('maildrop moves links, hard-linked files, garbage and unknown names to corrupt/', async () => {
    const t = await setUp();
    mkdirSync(t.dir, { mode: 0o1733 });
    const outside = join(t.config.queue.root, '..', 'secret');
    writeFileSync(outside, 'MTA-MAILDROP 1\n');
    symlinkSync(outside, join(t.dir, newDropName()));
    linkSync(outside, join(t.dir, newDropName()));
    writeFileSync(join(t.dir, newDropName()), 'not a drop file');
    writeFileSync(join(t.dir, 'stray'), '');
    await t.start();
    expect(readdirSync(t.dir)).toEqual([]);
    expect(readdirSync(join(t.config.queue.root, 'corrupt'))).toHaveLength(4);
    const problems = t.logger.lines.filter((l) => l.msg === 'maildrop file unusable; moved to corrupt').map((l) => (l.obj as { problem: string }).problem);
    expect(problems.sort()).toEqual(['a file with other hard links', 'a symbolic link', 'not a maildrop file', 'unknown file name']);
  });

  it('maildrop moves a message it refuses to corrupt/ and removes abandoned temp files', async () => {
    const t = await setUp({ abandonedAfterMs: 0 });
    mkdirSync(t.dir, { mode: 0o1733 });
    t.drop([]);
    t.drop(['x@example.org'], 'x', newDropName('t.'));
    await t.start();
    expect(readdirSync(t.dir)).toEqual([]);
    expect(t.logger.lines.map((l) => l.msg)).toContain('abandoned maildrop file removed');
    expect(t.logger.lines.find((l) => l.msg === 'maildrop file unusable; moved to corrupt')?.obj).toMatchObject({ problem: 'no recipients given' });
  });
});
