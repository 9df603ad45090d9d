// Where each recipient goes: a local mailbox, a remote domain, or nowhere. Built once from the
// local domains and the aliases file and handed to the session (relay control), the intake and
// the runner, so that "is this recipient local?" has one answer. Knows nothing of mailboxes or
// MX hosts. route() never expands aliases (the runner retries addresses already expanded);
// resolve() does, for the intake's RCPT check and commit.
import { replies } from '../smtp/reply.js';
import type { Reply } from '../smtp/reply.js';
import { AliasTable } from './alias-table.js';
import type { AliasEntry } from './aliases.js';

/** A recipient's destination; `mailbox` is the address local delivery uses (postmaster completed). */
export type Route =
  | { readonly kind: 'local'; readonly mailbox: string }
  | { readonly kind: 'remote'; readonly domain: string }
  | { readonly kind: 'refused'; readonly reply: Reply };

/** What a recipient becomes at the intake: a mailbox here, the relay, an alias's targets, or a refusal. */
export type Resolution =
  | { readonly kind: 'mailbox'; readonly mailbox: string }
  | { readonly kind: 'remote' }
  /** Final addresses, local or remote; they are routed, never expanded again. */
  | { readonly kind: 'alias'; readonly targets: readonly string[] }
  | { readonly kind: 'refused'; readonly reply: Reply };

export interface RouterOptions {
  /** The domains delivered here; the first one receives every domain's postmaster. */
  readonly localDomains: readonly string[];
  /** The parsed aliases file. @default [] */
  readonly aliases?: readonly AliasEntry[];
  /** Extension separator for alias lookups (`name+ext` falls back to `name`). @default '+' */
  readonly recipientDelimiter?: string;
}

const POSTMASTER = 'postmaster';

/** Routes forward-paths (without angle brackets) by their domain, compared case-insensitively. */
export class Router {
  private readonly localDomains: ReadonlySet<string>;
  private readonly postmasterMailbox: string | undefined;
  private readonly aliases: AliasTable;

  constructor(options: RouterOptions) {
    this.localDomains = new Set(options.localDomains.map((d) => d.toLowerCase()));
    const first = options.localDomains[0]?.toLowerCase();
    this.postmasterMailbox = first === undefined ? undefined : `${POSTMASTER}@${first}`;
    this.aliases = new AliasTable(options.aliases ?? [], { localDomains: options.localDomains, recipientDelimiter: options.recipientDelimiter ?? '+' });
  }

  /** Returns where a forward-path goes. */
  route(forwardPath: string): Route {
    const at = forwardPath.lastIndexOf('@');
    if (at < 0) {
      // RFC 5321 4.5.1: the bare "Postmaster" must be accepted; it goes to the first local domain.
      if (this.isPostmaster(forwardPath) && this.postmasterMailbox !== undefined) return { kind: 'local', mailbox: this.postmasterMailbox };
      return { kind: 'refused', reply: replies.noDomain(forwardPath) };
    }
    const domain = forwardPath.slice(at + 1).toLowerCase();
    if (!this.localDomains.has(domain)) return { kind: 'remote', domain };
    // Every local domain's postmaster shares one mailbox an operator reads (created on demand).
    const mailbox = this.isPostmaster(forwardPath) ? (this.postmasterMailbox as string) : forwardPath;
    return { kind: 'local', mailbox };
  }

  /** Tells whether a forward-path is delivered here. */
  isLocal(forwardPath: string): boolean {
    return this.route(forwardPath).kind === 'local';
  }

  /**
   * Tells whether a forward-path is the postmaster of a local domain (or the bare `Postmaster`),
   * which RFC 5321 4.5.1 requires to be accepted: no policy check may refuse it.
   */
  isPostmaster(forwardPath: string): boolean {
    const at = forwardPath.lastIndexOf('@');
    if (at < 0) return forwardPath.toLowerCase() === POSTMASTER && this.postmasterMailbox !== undefined;
    return forwardPath.slice(0, at).toLowerCase() === POSTMASTER && this.localDomains.has(forwardPath.slice(at + 1).toLowerCase());
  }

  /** Returns what a forward-path becomes once aliases are expanded. */
  resolve(forwardPath: string): Resolution {
    const route = this.route(forwardPath);
    if (route.kind === 'refused') return route;
    if (route.kind === 'remote') return { kind: 'remote' };
    const expansion = this.aliases.expand(route.mailbox);
    if (expansion.kind === 'not-alias') return { kind: 'mailbox', mailbox: route.mailbox };
    if (expansion.kind === 'alias') return expansion;
    return { kind: 'refused', reply: replies.aliasLoop(forwardPath, expansion.chain) };
  }
}
