import { describe, expect, it } from 'vitest';
import { isSafeComponent, mailboxUser, resolveMailbox } from '../../../src/maildir/mailbox.js';

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
