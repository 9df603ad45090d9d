// Where each recipient goes: a local mailbox, a remote domain, or nowhere. Built once from the
// local domains and handed to the session (relay control), the intake and the runner, so that
// "is this recipient local?" has one answer. Knows nothing of mailboxes or MX hosts.
import { replies } from '../smtp/reply.js';
import type { Reply } from '../smtp/reply.js';

/** A recipient's destination; `mailbox` is the address local delivery uses (bare Postmaster completed). */
export type Route =
  | { readonly kind: 'local'; readonly mailbox: string }
  | { readonly kind: 'remote'; readonly domain: string }
  | { readonly kind: 'refused'; readonly reply: Reply };

export interface RouterOptions {
  /** The domains delivered here; the first one receives the bare `Postmaster`. */
  readonly localDomains: readonly string[];
}

/** Routes forward-paths (without angle brackets) by their domain, compared case-insensitively. */
export class Router {
  private readonly localDomains: ReadonlySet<string>;
  private readonly postmasterDomain: string | undefined;

  constructor(options: RouterOptions) {
    this.localDomains = new Set(options.localDomains.map((d) => d.toLowerCase()));
    this.postmasterDomain = options.localDomains[0]?.toLowerCase();
  }

  /** Returns where a forward-path goes. */
  route(forwardPath: string): Route {
    const at = forwardPath.lastIndexOf('@');
    if (at < 0) {
      // RFC 5321 4.5.1: the bare "Postmaster" must be accepted; it goes to the first local domain.
      if (forwardPath.toLowerCase() === 'postmaster' && this.postmasterDomain !== undefined) {
        return { kind: 'local', mailbox: `postmaster@${this.postmasterDomain}` };
      }
      return { kind: 'refused', reply: replies.noDomain(forwardPath) };
    }
    const domain = forwardPath.slice(at + 1).toLowerCase();
    return this.localDomains.has(domain) ? { kind: 'local', mailbox: forwardPath } : { kind: 'remote', domain };
  }

  /** Tells whether a forward-path is delivered here. */
  isLocal(forwardPath: string): boolean {
    return this.route(forwardPath).kind === 'local';
  }
}
