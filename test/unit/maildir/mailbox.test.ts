import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailbox, isSafeComponent, mailboxUser, resolveMailbox } from '../../../src/maildir/mailbox.js';
import { cleanTempDirs, tempDir } from '../queue/fixtures.js';

const layout = { root: '/mail', recipientDelimiter: '+' };

describe('mailbox', () => {
  it('mailbox maps a local address to <root>/<domain>/<user> with the domain lower-cased', () => {
    expect(resolveMailbox('bob@EXAMPLE.org', layout)).toMatchObject({ kind: 'mailbox', dir: '/mail/example.org/bob' });
  });

  it('mailbox lower-cases the local part, as Postfix local delivery does', () => {
    expect(resolveMailbox('Bob.Smith@example.org', layout)).toMatchObject({ user: 'bob.smith' });
  });

  it('mailbox drops the recipient delimiter suffix', () => {
    expect(mailboxUser('user+tag+more', '+')).toBe('user');
    expect(mailboxUser('user+tag', '')).toBe('user+tag');
    expect(mailboxUser('+tag', '+')).toBe('+tag');
    expect(resolveMailbox('user+lists@example.org', layout)).toMatchObject({ dir: '/mail/example.org/user' });
  });

  it('mailbox refuses local parts unsafe as a path with 550 5.1.3', () => {
    for (const bad of ['../etc@example.org', '.hidden@example.org', 'a/b@example.org', 'a..b@example.org', 'nul\u0000@example.org', '"q b"@example.org', 'x'.repeat(65) + '@example.org', 'no-domain']) {
      const target = resolveMailbox(bad, layout);
      expect(target.kind, bad).toBe('invalid');
      if (target.kind === 'invalid') expect([target.reply.code, target.reply.enhancedCode]).toEqual([550, '5.1.3']);
    }
    expect(isSafeComponent('bob.smith')).toBe(true);
  });
});

describe('createMailbox', () => {
  afterEach(cleanTempDirs);

  it('makes one mailbox when deliveries race to create it, and tells only one of them it did', async () => {
    const root = await tempDir('mailbox');
    const created = await Promise.all(Array.from({ length: 8 }, () => createMailbox(root, 'example.org', 'alice')));
    expect(created.filter(Boolean)).toHaveLength(1);
    expect((await readdir(join(root, 'example.org'))).sort()).toEqual(['alice']);
    expect((await readdir(join(root, 'example.org', 'alice'))).sort()).toEqual(expect.arrayContaining(['cur', 'new', 'tmp']));
  });
});
