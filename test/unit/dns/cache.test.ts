import { describe, expect, it } from 'vitest';
import { DnsCache } from '../../../src/dns/cache.js';
import { dnsblQueryName } from '../../../src/dns/dnsbl.js';

describe('dns cache', () => {
  it('dns cache keeps an answer for its TTL and no longer', () => {
    let now = 1_000_000;
    const cache = new DnsCache<string>(10, () => now);
    cache.set('A x.test', 'one', 30);
    now += 29_999;
    expect(cache.get('A x.test')).toBe('one');
    now += 1;
    expect(cache.get('A x.test')).toBeUndefined();
    cache.set('A y.test', 'zero', 0);
    expect(cache.get('A y.test')).toBeUndefined();
  });

  it('dns cache holds at most its size, dropping the least recently used', () => {
    const cache = new DnsCache<number>(2, () => 0);
    cache.set('a', 1, 60);
    cache.set('b', 2, 60);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3, 60);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
  });
});

describe('dnsbl', () => {
  it('dnsbl reverses IPv4 octets and IPv6 nibbles under the zone (RFC 5782)', () => {
    expect(dnsblQueryName('192.0.2.99', 'zen.example')).toBe('99.2.0.192.zen.example');
    expect(dnsblQueryName('::ffff:192.0.2.99', 'zen.example')).toBe('99.2.0.192.zen.example');
    expect(dnsblQueryName('2001:db8:1:2::1', 'bl.example')).toBe(
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example',
    );
  });
});
