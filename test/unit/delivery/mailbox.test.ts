import { describe, expect, it } from 'vitest';
import { isSafeComponent, mailboxUser, resolveMailbox } from '../../../src/delivery/mailbox.js';

const layout = { root: '/mail', localDomains: ['example.org', 'example.net'], recipientDelimiter: '+' };

describe('mailbox', () => {
  it('mailbox maps a local address to <root>/<domain>/<user> with the domain lower-cased', () => {
    expect(resolveMailbox('bob@EXAMPLE.org', layout)).toMatchObject({ kind: 'local', dir: '/mail/example.org/bob' });
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

  it('mailbox reports a non-local domain as remote', () => {
    expect(resolveMailbox('bob@elsewhere.test', layout)).toEqual({ kind: 'remote' });
  });

  it('mailbox refuses local parts unsafe as a path with 550 5.1.3', () => {
    for (const bad of ['../etc@example.org', '.hidden@example.org', 'a/b@example.org', 'a..b@example.org', 'nul\u0000@example.org', '"q b"@example.org', 'x'.repeat(65) + '@example.org']) {
      const target = resolveMailbox(bad, layout);
      expect(target.kind, bad).toBe('invalid');
      if (target.kind === 'invalid') expect([target.reply.code, target.reply.enhancedCode]).toEqual([550, '5.1.3']);
    }
    expect(isSafeComponent('bob.smith')).toBe(true);
  });

  it('mailbox sends the bare Postmaster to the first local domain (RFC 5321 4.5.1)', () => {
    expect(resolveMailbox('Postmaster', layout)).toMatchObject({ kind: 'local', dir: '/mail/example.org/postmaster' });
  });
});
