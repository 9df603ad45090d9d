// DNS blocklist lookups (RFC 5782): the client address, reversed (IPv4 octets, IPv6 nibbles),
// under each zone, as an A record; a listing's TXT record says why. A zone that fails to answer
// is reported as failed, so the caller can ignore it rather than block anyone.
import type { DnsResolver } from './resolver.js';
import { reversedName } from './reversed-name.js';

/** One zone's answer about an address. */
export type DnsblResult =
  | { readonly zone: string; readonly kind: 'listed'; readonly reason: string | undefined }
  | { readonly zone: string; readonly kind: 'not-listed' }
  | { readonly zone: string; readonly kind: 'failed'; readonly reason: string };

/** Returns the name to look up for `address` in `zone` (RFC 5782 2.1 and 2.4). */
export function dnsblQueryName(address: string, zone: string): string {
  return reversedName(address, zone);
}

/** Asks every zone about `address`, in parallel. */
export function lookupDnsbl(resolver: DnsResolver, address: string, zones: readonly string[]): Promise<DnsblResult[]> {
  return Promise.all(zones.map((zone) => lookupZone(resolver, address, zone)));
}

async function lookupZone(resolver: DnsResolver, address: string, zone: string): Promise<DnsblResult> {
  const name = dnsblQueryName(address, zone);
  const listed = await resolver.a(name);
  if (listed.kind === 'temporary-failure') return { zone, kind: 'failed', reason: listed.reason };
  if (listed.kind !== 'found') return { zone, kind: 'not-listed' };
  const txt = await resolver.txt(name);
  return { zone, kind: 'listed', reason: txt.kind === 'found' ? txt.records[0] : undefined };
}
