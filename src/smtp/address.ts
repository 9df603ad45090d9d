// Parses the angle-bracketed paths of MAIL FROM and RCPT TO (RFC 5321 4.1.2), with the UTF-8
// extensions of RFC 6531 3.3. Pure syntax: it lower-cases nothing and knows nothing of local
// domains or policy; the caller decides what an accepted path means.
import { isIPv4, isIPv6 } from 'node:net';

/** A parsed reverse-path or forward-path. */
export interface Path {
  /** The local part as meant: quotes removed and quoted-pairs decoded; '' for the null path. */
  readonly localPart: string;
  /** The domain or address literal as given (e.g. `[192.0.2.1]`); '' for `<>` and `<Postmaster>`. */
  readonly domain: string;
  /** `local@domain`, re-quoted only when the local part needs it; '' for `<>`, `Postmaster` for `<Postmaster>`. */
  readonly address: string;
  readonly isNull: boolean;
  /** The local part is "postmaster" in any case; `domain === ''` marks the bare `<Postmaster>` form. */
  readonly isPostmaster: boolean;
}

/** The outcome of parsePath: the path, or why it was refused (`utf8` when only SMTPUTF8 is missing). */
export type PathResult =
  | { ok: true; path: Path }
  | { ok: false; reason: string; utf8?: boolean };

/** Options of parsePath. */
export interface PathOptions {
  /** Accept non-ASCII local parts and domains (RFC 6531: the transaction carries SMTPUTF8). */
  utf8Allowed: boolean;
}

// RFC 5321 4.5.3.1.1-3: local part 64 octets, domain 255, path 256 including the brackets.
const MAX_LOCAL_PART_OCTETS = 64;
const MAX_DOMAIN_OCTETS = 255;
const MAX_PATH_OCTETS = 256;
// RFC 1035 2.3.4: a DNS label is at most 63 octets.
const MAX_LABEL_OCTETS = 63;

// atext (RFC 5322 3.2.3) plus UTF8-non-ascii (RFC 6531 3.3); U+FFFD marks undecodable input.
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uFFFC\uFFFE-\u{10FFFF}]+$/u;
// Let-dig / Ldh-str (RFC 5321 4.1.2), with U-labels admitted as non-ASCII letters (RFC 6531 3.3).
const LABEL = /^[A-Za-z0-9\u0080-\uFFFC\uFFFE-\u{10FFFF}](?:[A-Za-z0-9\-\u0080-\uFFFC\uFFFE-\u{10FFFF}]*[A-Za-z0-9\u0080-\uFFFC\uFFFE-\u{10FFFF}])?$/u;
// qtextSMTP (%d32-33 / %d35-91 / %d93-126) and UTF8-non-ascii.
const QTEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E\u0080-\uFFFC\uFFFE-\u{10FFFF}]$/u;
// Any non-ASCII character: such an address needs SMTPUTF8 (RFC 6531 3.3).
const NON_ASCII = /[\u0080-\u{10FFFF}]/u;

const octets = (s: string): number => Buffer.byteLength(s, 'utf8');
const fail = (reason: string): PathResult => ({ ok: false, reason });

/**
 * Parses `<...>` as a reverse-path (`<>` allowed) or a forward-path (`<Postmaster>` allowed).
 * Source routes (`<@a,@b:user@dom>`) are checked and dropped, as RFC 5321 4.1.2 and C.2 permit.
 */
export function parsePath(text: string, kind: 'reverse' | 'forward', opts: PathOptions): PathResult {
  if (!text.startsWith('<') || !text.endsWith('>') || text.length < 2) return fail('path must be enclosed in <>');
  if (octets(text) > MAX_PATH_OCTETS) return fail(`path longer than ${MAX_PATH_OCTETS} octets`);
  const inner = text.slice(1, -1);
  if (inner === '') {
    if (kind === 'reverse') return { ok: true, path: { localPart: '', domain: '', address: '', isNull: true, isPostmaster: false } };
    return fail('null path not allowed here');
  }
  // RFC 5321 4.1.1.3: "<Postmaster>" without a domain, case-insensitively, as a recipient only.
  if (kind === 'forward' && inner.toLowerCase() === 'postmaster') {
    return { ok: true, path: { localPart: inner, domain: '', address: inner, isNull: false, isPostmaster: true } };
  }
  const mailbox = stripSourceRoute(inner);
  if (mailbox === undefined) return fail('bad source route');
  const result = parseMailbox(mailbox);
  if (result.ok && !opts.utf8Allowed && NON_ASCII.test(mailbox)) {
    return { ok: false, reason: 'non-ASCII address needs SMTPUTF8', utf8: true };
  }
  return result;
}

/** Removes an `@a,@b:` source route after checking its domains; undefined when it is malformed. */
function stripSourceRoute(inner: string): string | undefined {
  if (!inner.startsWith('@')) return inner;
  const colon = inner.indexOf(':');
  if (colon < 0) return undefined;
  const hops = inner.slice(0, colon).split(',');
  const isValid = hops.every((hop) => hop.startsWith('@') && checkDomain(hop.slice(1)) === undefined);
  return isValid ? inner.slice(colon + 1) : undefined;
}

/** Parses `Local-part "@" ( Domain / address-literal )`. */
function parseMailbox(mailbox: string): PathResult {
  const local = mailbox.startsWith('"') ? readQuoted(mailbox) : readDotString(mailbox);
  if ('reason' in local) return fail(local.reason);
  if (local.end > 0 && octets(mailbox.slice(0, local.end)) > MAX_LOCAL_PART_OCTETS) {
    return fail(`local part longer than ${MAX_LOCAL_PART_OCTETS} octets`);
  }
  if (mailbox[local.end] !== '@') return fail('missing @domain');
  const domain = mailbox.slice(local.end + 1);
  const problem = domain.startsWith('[') ? checkAddressLiteral(domain) : checkDomain(domain);
  if (problem !== undefined) return fail(problem);
  const localPart = local.value;
  const isPostmaster = localPart.toLowerCase() === 'postmaster';
  const address = `${formatLocalPart(localPart)}@${domain}`;
  return { ok: true, path: { localPart, domain, address, isNull: false, isPostmaster } };
}

type LocalRead = { value: string; end: number } | { reason: string };

/** Reads a Dot-string: atoms separated by single dots, up to the first `@` (atext has none). */
function readDotString(mailbox: string): LocalRead {
  const end = mailbox.indexOf('@');
  if (end <= 0) return { reason: end === 0 ? 'empty local part' : 'missing @domain' };
  const value = mailbox.slice(0, end);
  const isValid = value.split('.').every((atom) => ATOM.test(atom));
  return isValid ? { value, end } : { reason: 'bad local part' };
}

/** Reads a Quoted-string with quoted-pairs (RFC 5321 4.1.2 QcontentSMTP). */
function readQuoted(mailbox: string): LocalRead {
  let value = '';
  for (let i = 1; i < mailbox.length; i++) {
    const c = mailbox[i] as string;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      const next = mailbox[++i];
      // quoted-pairSMTP = %d92 %d32-126
      if (next === undefined || next < ' ' || next > '~') return { reason: 'bad quoted pair in local part' };
      value += next;
    } else if (QTEXT.test(c)) {
      value += c;
    } else {
      return { reason: 'bad character in quoted local part' };
    }
  }
  return { reason: 'unterminated quoted local part' };
}

/** Writes a local part back in minimal form: bare when it is a Dot-string, else quoted (RFC 5321 4.1.2). */
export function formatLocalPart(localPart: string): string {
  const isDotString = localPart !== '' && localPart.split('.').every((atom) => ATOM.test(atom));
  return isDotString ? localPart : `"${localPart.replace(/["\\]/g, '\\$&')}"`;
}

/** Checks a Domain: dot-separated labels; returns the problem or undefined. */
function checkDomain(domain: string): string | undefined {
  if (domain === '') return 'empty domain';
  if (octets(domain) > MAX_DOMAIN_OCTETS) return `domain longer than ${MAX_DOMAIN_OCTETS} octets`;
  for (const label of domain.split('.')) {
    if (!LABEL.test(label)) return 'bad domain';
    if (octets(label) > MAX_LABEL_OCTETS) return `domain label longer than ${MAX_LABEL_OCTETS} octets`;
  }
  return undefined;
}

/** Checks `[IPv4]` or `[IPv6:...]` (RFC 5321 4.1.3); general literals have no registered tag we know. */
function checkAddressLiteral(literal: string): string | undefined {
  if (!literal.endsWith(']')) return 'bad address literal';
  const body = literal.slice(1, -1);
  if (/^ipv6:/i.test(body)) {
    const ip = body.slice(5);
    // node:net accepts zone ids ("fe80::1%eth0"), which RFC 5321's IPv6-addr does not.
    return isIPv6(ip) && !ip.includes('%') ? undefined : 'bad IPv6 address literal';
  }
  return isIPv4(body) ? undefined : 'bad address literal';
}
