import { describe, expect, it } from 'vitest';
import { parseAliases } from '../../../src/queue/aliases.js';
import { Router } from '../../../src/queue/router.js';

const router = new Router({ localDomains: ['example.org', 'Example.NET'] });

describe('router', () => {
  it('router sends a local domain to its mailbox, comparing domains case-insensitively', () => {
    expect(router.route('bob@EXAMPLE.org')).toEqual({ kind: 'local', mailbox: 'bob@EXAMPLE.org' });
    expect(router.route('carol@example.net')).toEqual({ kind: 'local', mailbox: 'carol@example.net' });
    expect(router.isLocal('carol@example.net')).toBe(true);
  });

  it('router sends other domains to the relay with the domain lower-cased', () => {
    expect(router.route('dave@Remote.Test')).toEqual({ kind: 'remote', domain: 'remote.test' });
    expect(router.isLocal('dave@remote.test')).toBe(false);
    // A subdomain of a local domain is not local.
    expect(router.route('x@sub.example.org').kind).toBe('remote');
  });

  it('router sends the bare Postmaster to the first local domain (RFC 5321 4.5.1)', () => {
    expect(router.route('PostMaster')).toEqual({ kind: 'local', mailbox: 'postmaster@example.org' });
  });

  it('router refuses an address without a domain with 550 5.1.3', () => {
    const route = router.route('bob');
    expect(route.kind).toBe('refused');
    if (route.kind === 'refused') expect([route.reply.code, route.reply.enhancedCode]).toEqual([550, '5.1.3']);
    expect(new Router({ localDomains: [] }).route('postmaster').kind).toBe('refused');
  });

  it('router sends every local domain\'s postmaster to the first local domain\'s mailbox', () => {
    expect(router.route('POSTMASTER@example.net')).toEqual({ kind: 'local', mailbox: 'postmaster@example.org' });
    expect(router.route('postmaster@remote.test')).toEqual({ kind: 'remote', domain: 'remote.test' });
  });

  it('router tells postmaster of a local domain (RFC 5321 4.5.1) from look-alikes', () => {
    expect(['Postmaster', 'postmaster@Example.NET', 'PostMaster@example.org'].map((a) => router.isPostmaster(a))).toEqual([true, true, true]);
    expect(['postmaster@remote.test', 'postmaster+x@example.org', 'postmasters@example.org', 'bob'].map((a) => router.isPostmaster(a))).toEqual([false, false, false, false]);
    expect(new Router({ localDomains: [] }).isPostmaster('postmaster')).toBe(false);
  });

  it('router resolves aliases for the intake, and never in route()', () => {
    const aliases = parseAliases(['postmaster: root', 'team: alice, carol@remote.test', 'a: b', 'b: a'].join('\n'), 'aliases').entries;
    const r = new Router({ localDomains: ['example.org', 'example.net'], aliases });
    expect(r.resolve('Postmaster')).toEqual({ kind: 'alias', targets: ['root@example.org'] });
    expect(r.resolve('team@example.net')).toEqual({ kind: 'alias', targets: ['alice@example.org', 'carol@remote.test'] });
    expect(r.route('team@example.net')).toEqual({ kind: 'local', mailbox: 'team@example.net' });
    expect(r.resolve('bob@example.org')).toEqual({ kind: 'mailbox', mailbox: 'bob@example.org' });
    expect(r.resolve('team@remote.test')).toEqual({ kind: 'remote' });
    const loop = r.resolve('a@example.org');
    expect(loop.kind === 'refused' && [loop.reply.code, loop.reply.enhancedCode, loop.reply.lines[0]]).toEqual([550, '5.4.6', '<a@example.org>: Recipient address rejected: alias loop (a -> b -> a)']);
    expect(new Router({ localDomains: ['example.org'] }).resolve('postmaster@example.org')).toEqual({ kind: 'mailbox', mailbox: 'postmaster@example.org' });
  });
});
