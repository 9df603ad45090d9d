// The one DNS resolver of the program (node:dns's c-ares behind our own interface): A, AAAA, MX,
// TXT and PTR with a hard per-lookup deadline of our own, a bounded cache, and a tagged result
// everywhere, so "no such name", "no data" and "the DNS failed" are never merged. Servers come
// from dns.servers, or /etc/resolv.conf when none are configured. FCrDNS is built on top.
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { DnsCache } from './cache.js';
import { ptrName } from './reversed-name.js';

/** The outcome of one lookup. `ttlSec` is the records' TTL where DNS told it, else a default. */
export type DnsResult<T> =
  | { readonly kind: 'found'; readonly records: readonly T[]; readonly ttlSec: number }
  /** NXDOMAIN: the name does not exist. */
  | { readonly kind: 'no-such-name' }
  /** The name exists but has no record of this type. */
  | { readonly kind: 'no-data' }
  /** SERVFAIL, REFUSED, a timeout, an unreachable server: try again later. */
  | { readonly kind: 'temporary-failure'; readonly reason: string };

export interface MxRecord {
  readonly exchange: string;
  readonly priority: number;
}

/** The client's name after forward confirmation (FCrDNS). */
export type NameResult =
  | { readonly kind: 'confirmed'; readonly name: string }
  | { readonly kind: 'unconfirmed'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'temporary-failure'; readonly reason: string };

export interface DnsResolverOptions {
  /** `ip`, `ip:port` or `[ipv6]:port`; empty uses /etc/resolv.conf. */
  readonly servers: readonly string[];
  /** Deadline of one lookup, retries included. */
  readonly timeoutMs: number;
  /** Entries kept in the cache. @default 10000 */
  readonly cacheEntries?: number;
  /** @default Date.now */
  readonly nowMs?: () => number;
}

/** How long answers without a TTL from c-ares (MX, TXT, PTR, negative answers) are cached. */
const DEFAULT_TTL_SEC = 300;
const NEGATIVE_TTL_SEC = 60;
/** PTR names checked for forward confirmation; more is a misconfiguration or an attack. */
const MAX_PTR_NAMES = 5;

const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENONAME']);
const NO_DATA = new Set(['ENODATA']);

type RecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR';

/** Looks names up with a deadline and a cache; never throws for a DNS failure. */
export class DnsResolver {
  private readonly cache: DnsCache<DnsResult<unknown>>;

  constructor(private readonly options: DnsResolverOptions) {
    this.cache = new DnsCache(options.cacheEntries ?? 10_000, options.nowMs ?? Date.now);
  }

  /** IPv4 addresses of a name. */
  a(name: string): Promise<DnsResult<string>> {
    return this.lookup('A', name, async (r) => withTtl(await r.resolve4(name, { ttl: true })));
  }

  /** IPv6 addresses of a name. */
  aaaa(name: string): Promise<DnsResult<string>> {
    return this.lookup('AAAA', name, async (r) => withTtl(await r.resolve6(name, { ttl: true })));
  }

  /** Mail exchangers of a domain, as given (ordering is the relay's business). */
  mx(name: string): Promise<DnsResult<MxRecord>> {
    return this.lookup('MX', name, async (r) => ({ records: await r.resolveMx(name), ttlSec: DEFAULT_TTL_SEC }));
  }

  /** TXT records of a name, each record's strings joined. */
  txt(name: string): Promise<DnsResult<string>> {
    return this.lookup('TXT', name, async (r) => ({ records: (await r.resolveTxt(name)).map((parts) => parts.join('')), ttlSec: DEFAULT_TTL_SEC }));
  }

  /** PTR names of an IPv4 or IPv6 address (in-addr.arpa / ip6.arpa). */
  ptr(address: string): Promise<DnsResult<string>> {
    // resolvePtr, not reverse(): reverse() reports a SERVFAIL as ENOTFOUND, merging "failed" into "none".
    const name = ptrName(address);
    return this.lookup('PTR', name, async (r) => ({ records: await r.resolvePtr(name), ttlSec: DEFAULT_TTL_SEC }));
  }

  /** Finds the client's name: a PTR name whose A/AAAA records contain the address (FCrDNS). */
  async confirmedName(address: string): Promise<NameResult> {
    const ip = ipaddr.process(address);
    const ptr = await this.ptr(address);
    if (ptr.kind === 'temporary-failure') return ptr;
    if (ptr.kind !== 'found' || ptr.records.length === 0) return { kind: 'none' };
    let failure: NameResult | undefined;
    for (const name of ptr.records.slice(0, MAX_PTR_NAMES)) {
      const forward = ip.kind() === 'ipv6' ? await this.aaaa(name) : await this.a(name);
      if (forward.kind === 'found' && forward.records.some((a) => sameAddress(a, ip))) return { kind: 'confirmed', name };
      if (forward.kind === 'temporary-failure') failure ??= forward;
    }
    return failure ?? { kind: 'unconfirmed', name: ptr.records[0] ?? '' };
  }

  private async lookup<T>(type: RecordType, name: string, query: (r: Resolver) => Promise<{ records: T[]; ttlSec: number }>): Promise<DnsResult<T>> {
    const key = `${type} ${name.toLowerCase()}`;
    const cached = this.cache.get(key) as DnsResult<T> | undefined;
    if (cached) return cached;
    const result = await this.withDeadline(query);
    if (result.kind === 'found') this.cache.set(key, result, result.ttlSec);
    else if (result.kind !== 'temporary-failure') this.cache.set(key, result, NEGATIVE_TTL_SEC);
    return result;
  }

  /**
   * Runs one query on a resolver of its own, cancelled at our deadline: c-ares's own timeout runs
   * about twice as long as set, and cancel() ends every query of a resolver, not just one.
   */
  private async withDeadline<T>(query: (r: Resolver) => Promise<{ records: T[]; ttlSec: number }>): Promise<DnsResult<T>> {
    const resolver = new Resolver({ timeout: this.options.timeoutMs, tries: 2 });
    if (this.options.servers.length > 0) resolver.setServers([...this.options.servers]);
    const timer = setTimeout(() => resolver.cancel(), this.options.timeoutMs);
    try {
      const { records, ttlSec } = await query(resolver);
      return records.length === 0 ? { kind: 'no-data' } : { kind: 'found', records, ttlSec };
    } catch (err) {
      return failure(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

function withTtl(records: readonly { address: string; ttl: number }[]): { records: string[]; ttlSec: number } {
  const ttlSec = records.reduce((min, r) => Math.min(min, r.ttl), DEFAULT_TTL_SEC);
  return { records: records.map((r) => r.address), ttlSec };
}

function failure(err: unknown): DnsResult<never> {
  const code = (err as { code?: string }).code ?? '';
  if (NO_SUCH_NAME.has(code)) return { kind: 'no-such-name' };
  if (NO_DATA.has(code)) return { kind: 'no-data' };
  const reason = code === 'ECANCELLED' ? 'timeout' : code || String(err);
  return { kind: 'temporary-failure', reason };
}

function sameAddress(text: string, ip: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return net.isIP(text) !== 0 && ipaddr.process(text).toString() === ip.toString();
}
