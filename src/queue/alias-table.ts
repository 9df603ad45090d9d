// Alias expansion over the parsed aliases file: a local address whose local part is an alias
// name (in any local domain) becomes the alias's targets, recursively. A name in its own expansion
// means its own mailbox (`alice: alice, alice@home.example` keeps a copy); any other cycle is a
// loop, which checkAliases reports per entry so that a file with one is refused at load. Pure.
import { parsePath } from '../smtp/address.js';
import type { AliasEntry, AliasProblem } from './aliases.js';

/** How addresses meet alias names. */
export interface AliasTableOptions {
  /** The local domains; the first one completes unqualified targets (Postfix's $myorigin). */
  readonly localDomains: readonly string[];
  /** `+` makes `name+ext@` fall back to the alias `name` when `name+ext` is none; '' turns it off. */
  readonly recipientDelimiter: string;
}

/** What an address becomes. */
export type Expansion =
  | { readonly kind: 'not-alias' }
  /** Final addresses, local or remote, in file order without repeats. */
  | { readonly kind: 'alias'; readonly targets: readonly string[] }
  /** The names of a cycle, from the one expanded back to the repeated one. */
  | { readonly kind: 'loop'; readonly chain: readonly string[] };

/** Expands local addresses through the aliases. */
export class AliasTable {
  private readonly byName: ReadonlyMap<string, AliasEntry>;
  private readonly localDomains: ReadonlySet<string>;
  private readonly originDomain: string | undefined;

  constructor(
    entries: readonly AliasEntry[],
    private readonly options: AliasTableOptions,
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
    this.localDomains = new Set(options.localDomains.map((d) => d.toLowerCase()));
    this.originDomain = options.localDomains[0]?.toLowerCase();
  }

  /** The number of aliases. */
  get size(): number {
    return this.byName.size;
  }

  /** Expands a qualified address (`user@domain`, without brackets). */
  expand(address: string): Expansion {
    const name = this.nameOf(address);
    return name === undefined ? { kind: 'not-alias' } : this.expandName(name);
  }

  /** Expands an alias by name; every entry of the file can be checked this way. */
  expandName(name: string): Expansion {
    const targets = new Map<string, string>();
    const loop = this.collect(name, [name], targets);
    return loop ? { kind: 'loop', chain: loop } : { kind: 'alias', targets: [...targets.values()] };
  }

  /** Adds the final addresses of `name` to `out`; returns the chain of names when it meets a cycle. */
  private collect(name: string, chain: readonly string[], out: Map<string, string>): readonly string[] | undefined {
    for (const target of this.byName.get(name)?.targets ?? []) {
      const address = this.qualify(target);
      const next = this.nameOf(address);
      // A name in its own expansion is its mailbox: sendmail's and Postfix's "self-reference".
      if (next === undefined || next === name) out.set(dedupeKey(address), address);
      else if (chain.includes(next)) return [...chain, next];
      else {
        const loop = this.collect(next, [...chain, next], out);
        if (loop) return loop;
      }
    }
    return undefined;
  }

  /** The alias name a local address matches (whole local part first, then without its extension). */
  private nameOf(address: string): string | undefined {
    const parsed = parsePath(`<${address}>`, 'forward', { utf8Allowed: true });
    if (!parsed.ok || !this.localDomains.has(parsed.path.domain.toLowerCase())) return undefined;
    const local = parsed.path.localPart.toLowerCase();
    if (this.byName.has(local)) return local;
    const delimiter = this.options.recipientDelimiter;
    const cut = delimiter === '' ? -1 : local.indexOf(delimiter);
    const base = cut > 0 ? local.slice(0, cut) : undefined;
    return base !== undefined && this.byName.has(base) ? base : undefined;
  }

  /** Completes an unqualified target with the first local domain. */
  private qualify(target: string): string {
    const parsed = parsePath(`<${target}>`, 'forward', { utf8Allowed: true });
    // parsePath takes a bare "postmaster" as RFC 5321's <Postmaster>: unqualified all the same.
    const isQualified = parsed.ok && parsed.path.domain !== '';
    return isQualified || this.originDomain === undefined ? target : `${target}@${this.originDomain}`;
  }
}

/** Two spellings of one mailbox count once: domains compare in any case (local parts do not, RFC 5321 2.4). */
function dedupeKey(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : address.slice(0, at) + address.slice(at).toLowerCase();
}

/** Reports each alias whose expansion loops, on its own line (the file is refused with any). */
export function checkAliases(entries: readonly AliasEntry[], options: AliasTableOptions): AliasProblem[] {
  const table = new AliasTable(entries, options);
  const problems: AliasProblem[] = [];
  for (const entry of entries) {
    const expansion = table.expandName(entry.name);
    if (expansion.kind === 'loop') {
      problems.push({ file: entry.file, line: entry.line, message: `alias "${entry.name}" loops: ${expansion.chain.join(' -> ')}` });
    }
  }
  return problems;
}
