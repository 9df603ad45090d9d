// The intake with an aliases file and the postmaster rule: what RCPT accepts, what the queued
// envelope holds (expanded targets with their originalRecipient), and the mailboxes written.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailbox } from '../../../src/maildir/mailbox.js';
import { parseAliases } from '../../../src/queue/aliases.js';
import { cleanTempDirs, incoming, SAMPLE_MESSAGE, tempDir, testConfig, testLogger, testMail } from './fixtures.js';

afterEach(cleanTempDirs);

const ALIASES = ['postmaster: root', 'team: bob, dave@example.net, carol@remote.test', 'all: team, bob@example.org', 'a: b', 'b: a'].join('\n');

async function setup(aliasesText = ALIASES) {
  const root = await tempDir('aliases');
  const config = testConfig(root, { createMailboxes: false });
  await mkdir(config.maildir.root);
  for (const [domain, user] of [['example.org', 'bob'], ['example.org', 'root'], ['example.net', 'dave']] as const) {
    await createMailbox(config.maildir.root, domain, user);
  }
  const logger = testLogger();
  const mail = testMail(config, logger, { aliases: parseAliases(aliasesText, 'aliases').entries });
  await mail.recover();
  return { config, logger, mail };
}

async function deliver(mail: Awaited<ReturnType<typeof setup>>['mail'], recipients: string[]) {
  const writer = await mail.sink.open(incoming(recipients));
  writer.body.write(Buffer.from(SAMPLE_MESSAGE));
  writer.body.end();
  expect(await writer.commit()).toEqual({ ok: true, queueId: writer.queueId });
  return writer.queueId;
}

async function onlyFile(dir: string) {
  const names = await readdir(join(dir, 'new'));
  expect(names).toHaveLength(1);
  return stat(join(dir, 'new', names[0] ?? ''));
}

describe('intake with aliases', () => {
  it('intake accepts an alias name at RCPT without a mailbox, and refuses a loop with 550 5.4.6', async () => {
    const { mail } = await setup();
    expect(await mail.sink.checkRecipient('Team@example.net')).toBeUndefined();
    expect(await mail.sink.checkRecipient('nobody@example.org')).toMatchObject({ code: 550, enhancedCode: '5.1.1' });
    expect(await mail.sink.checkRecipient('a@example.org')).toMatchObject({ code: 550, enhancedCode: '5.4.6' });
  });

  it('intake expands an alias at commit: one hard-linked file for the local targets, the remote one queued with its originalRecipient', async () => {
    const { config, mail } = await setup();
    const queueId = await deliver(mail, ['all@example.org']);
    const bob = await onlyFile(join(config.maildir.root, 'example.org', 'bob'));
    const dave = await onlyFile(join(config.maildir.root, 'example.net', 'dave'));
    expect([bob.ino, bob.nlink]).toEqual([dave.ino, 2]);
    const envelope = JSON.parse(await readFile(join(config.queue.root, 'incoming', `m.${queueId}`, 'envelope'), 'utf8'));
    expect(envelope.recipients).toEqual([
      expect.objectContaining({ address: 'bob@example.org', originalRecipient: 'all@example.org', status: 'delivered' }),
      expect.objectContaining({ address: 'dave@example.net', originalRecipient: 'all@example.org', status: 'delivered' }),
      { address: 'carol@remote.test', originalRecipient: 'all@example.org', status: 'pending' },
    ]);
  });

  it('intake stores each final address once across recipients, keeping the first originalRecipient', async () => {
    const { config, mail } = await setup();
    const queueId = await deliver(mail, ['bob@example.org', 'team@example.org', 'Carol@remote.test']);
    const envelope = JSON.parse(await readFile(join(config.queue.root, 'incoming', `m.${queueId}`, 'envelope'), 'utf8'));
    expect(envelope.recipients.map((r: { address: string; originalRecipient?: string }) => [r.address, r.originalRecipient])).toEqual([
      ['bob@example.org', undefined],
      ['dave@example.net', 'team@example.org'],
      ['carol@remote.test', 'team@example.org'],
      ['Carol@remote.test', undefined],
    ]);
  });

  it('intake delivers postmaster of any local domain through its alias', async () => {
    const { config, mail } = await setup();
    expect(await mail.sink.checkRecipient('PostMaster@example.net')).toBeUndefined();
    await deliver(mail, ['PostMaster@example.net', 'Postmaster']);
    await onlyFile(join(config.maildir.root, 'example.org', 'root'));
  });

  it('intake accepts postmaster without an alias and creates its mailbox in the first local domain on demand', async () => {
    const { config, mail, logger } = await setup('');
    expect(await mail.sink.checkRecipient('postmaster@example.net')).toBeUndefined();
    expect(await mail.sink.checkRecipient('Postmaster')).toBeUndefined();
    // Only postmaster is created on demand: create_mailboxes is off for everyone else.
    expect(await mail.sink.checkRecipient('webmaster@example.org')).toMatchObject({ code: 550 });
    await deliver(mail, ['postmaster@example.net']);
    await onlyFile(join(config.maildir.root, 'example.org', 'postmaster'));
    expect(logger.lines.some((l) => l.msg === 'mailbox created')).toBe(true);
    await expect(readdir(join(config.maildir.root, 'example.net'))).resolves.toEqual(['dave']);
  });
});
