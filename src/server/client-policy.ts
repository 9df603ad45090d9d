// Whether a client is refused for who it is, decided once per connection from its reverse DNS
// and DNS blocklist answers (pure: the lookups happen in smtp-server.ts). A DNS failure never
// refuses for good: reverse DNS gets a temporary 450 4.7.25, a blocklist that fails is ignored.
import { type Reply, replies } from '../smtp/reply.js';

/** What a reverse lookup of the client found; "no name" and "DNS failed" stay apart. */
export type ClientName =
  | { readonly kind: 'confirmed'; readonly name: string }
  | { readonly kind: 'unconfirmed'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'temporary-failure'; readonly reason: string }
  | { readonly kind: 'off' };

/** The answer of one DNS blocklist about the client. */
export type DnsblAnswer =
  | { readonly zone: string; readonly kind: 'listed'; readonly reason: string | undefined }
  | { readonly zone: string; readonly kind: 'not-listed' }
  | { readonly zone: string; readonly kind: 'failed'; readonly reason: string };

/** What the operator asked for (server.reverse_dns, server.reject_client_at). */
export interface ClientPolicyOptions {
  readonly reverseDns: 'off' | 'log' | 'require';
  readonly rejectAt: 'rcpt' | 'connect';
}

/** Returns the refusal a client gets, or undefined to serve it. Blocklists come first: they are final. */
export function clientRefusal(address: string, name: ClientName, dnsbl: readonly DnsblAnswer[], options: ClientPolicyOptions): Reply | undefined {
  const listed = dnsbl.find((a) => a.kind === 'listed');
  if (listed?.kind === 'listed') return replies.dnsblListed(address, listed.zone, listed.reason);
  if (options.reverseDns !== 'require') return undefined;
  switch (name.kind) {
    case 'none':
      return replies.reverseDnsMissing(address);
    case 'unconfirmed':
      return replies.reverseDnsUnconfirmed(address, name.name);
    case 'temporary-failure':
      return replies.reverseDnsTemporaryFailure(address);
    default:
      return undefined;
  }
}

/** The reply that stands in for the greeting when a refusal is told at connect (RFC 5321 3.1: 554, or 421 to come back later). */
export function connectRefusal(refusal: Reply): Reply {
  return { ...refusal, code: refusal.code >= 500 ? 554 : 421 };
}
