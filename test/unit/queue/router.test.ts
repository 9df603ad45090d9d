import { describe, expect, it } from 'vitest';
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
});
