// DNS lookups the server needs, behind a small injectable interface: the client's PTR name,
// confirmed forward (FCrDNS). Uses the configured resolvers, or /etc/resolv.conf when none.
// Failures are data: a name that does not exist and a server that failed are told apart.
import { Resolver } from 'node:dns/promises';
import net from 'node:net';

/** The result of a reverse lookup. */
export type PtrResult =
  | { readonly kind: 'confirmed'; readonly name: string }
  | { readonly kind: 'unconfirmed'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'temporary-failure'; readonly reason: string };

/** Options for the resolver. */
export interface ResolverOptions {
  /** `ip` or `ip:port` / `[ipv6]:port`; empty uses the system's resolvers. */
  readonly servers: readonly string[];
  readonly timeoutMs: number;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);

/** Looks up and forward-confirms client names. */
export class DnsResolver {
  private readonly resolver: Resolver;

  constructor(options: ResolverOptions) {
    this.resolver = new Resolver({ timeout: options.timeoutMs, tries: 2 });
    if (options.servers.length > 0) this.resolver.setServers([...options.servers]);
  }

  /** Finds the PTR name of an address and checks that the name resolves back to it (FCrDNS). */
  async ptr(address: string): Promise<PtrResult> {
    let names: string[];
    try {
      names = await this.resolver.reverse(address);
    } catch (err) {
      return failure(err);
    }
    const name = names[0];
    if (!name) return { kind: 'none' };
    try {
      const forward = net.isIPv6(address) ? await this.resolver.resolve6(name) : await this.resolver.resolve4(name);
      const isConfirmed = forward.some((a) => sameAddress(a, address));
      return { kind: isConfirmed ? 'confirmed' : 'unconfirmed', name };
    } catch (err) {
      const f = failure(err);
      return f.kind === 'none' ? { kind: 'unconfirmed', name } : f;
    }
  }
}

function failure(err: unknown): PtrResult {
  const code = (err as { code?: string }).code ?? '';
  if (NOT_FOUND.has(code)) return { kind: 'none' };
  return { kind: 'temporary-failure', reason: code || String(err) };
}

function sameAddress(a: string, b: string): boolean {
  if (net.isIPv6(a) && net.isIPv6(b)) {
    const list = new net.BlockList();
    list.addAddress(a, 'ipv6');
    return list.check(b, 'ipv6');
  }
  return a === b;
}
