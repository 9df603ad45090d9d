// Where mail for a domain goes (RFC 5321 5.1): its MX hosts by preference, equal preferences in
// random order, each with its IPv6 then IPv4 addresses; the domain itself when it has no MX
// (implicit MX); nowhere for a null MX (RFC 7505). Lookup failures stay apart from answers.
import type { DnsResolver } from './resolver.js';

/** One host to try, with its addresses in the order to try them. */
export interface MailHost {
  readonly name: string;
  readonly preference: number;
  readonly addresses: readonly string[];
}

export type MailHostsResult =
  | { readonly kind: 'hosts'; readonly hosts: readonly MailHost[] }
  /** RFC 7505: the domain accepts no mail. */
  | { readonly kind: 'null-mx' }
  /** The domain does not exist, or has neither MX nor address records. */
  | { readonly kind: 'no-such-domain' }
  | { readonly kind: 'temporary-failure'; readonly reason: string };

/** MX records beyond this many are ignored: a domain with more is misconfigured or hostile. */
const MAX_MX_HOSTS = 10;

/** Finds the hosts to try for `domain`; `random` orders equal preferences. */
export async function mailHosts(resolver: DnsResolver, domain: string, random: () => number = Math.random): Promise<MailHostsResult> {
  const mx = await resolver.mx(domain);
  if (mx.kind === 'temporary-failure') return mx;
  if (mx.kind === 'no-such-name') return { kind: 'no-such-domain' };
  if (mx.kind === 'no-data') return implicitMx(resolver, domain);
  if (mx.records.some((r) => r.exchange === '' || r.exchange === '.')) return { kind: 'null-mx' };
  const ordered = mx.records
    .map((r) => ({ r, tie: random() }))
    .sort((a, b) => a.r.priority - b.r.priority || a.tie - b.tie)
    .slice(0, MAX_MX_HOSTS)
    .map(({ r }) => r);
  const hosts: MailHost[] = [];
  let failure: string | undefined;
  for (const r of ordered) {
    const addresses = await addressesOf(resolver, r.exchange);
    if (typeof addresses === 'string') failure ??= addresses;
    else if (addresses.length > 0) hosts.push({ name: r.exchange, preference: r.priority, addresses });
  }
  if (hosts.length > 0) return { kind: 'hosts', hosts };
  return failure === undefined ? { kind: 'no-such-domain' } : { kind: 'temporary-failure', reason: failure };
}

async function implicitMx(resolver: DnsResolver, domain: string): Promise<MailHostsResult> {
  const addresses = await addressesOf(resolver, domain);
  if (typeof addresses === 'string') return { kind: 'temporary-failure', reason: addresses };
  return addresses.length > 0 ? { kind: 'hosts', hosts: [{ name: domain, preference: 0, addresses }] } : { kind: 'no-such-domain' };
}

/** A host's IPv6 then IPv4 addresses, or the reason of a temporary failure when it has none. */
export async function addressesOf(resolver: DnsResolver, name: string): Promise<string[] | string> {
  const [v6, v4] = await Promise.all([resolver.aaaa(name), resolver.a(name)]);
  const addresses = [...(v6.kind === 'found' ? v6.records : []), ...(v4.kind === 'found' ? v4.records : [])];
  if (addresses.length > 0) return addresses;
  const failed = [v6, v4].find((r) => r.kind === 'temporary-failure');
  return failed?.kind === 'temporary-failure' ? `${name}: ${failed.reason}` : [];
}
