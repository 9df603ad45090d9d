// Checks of single strings in the config: domain names, listen addresses, CIDR blocks, resolver
// addresses, names and paths. Pure functions over node:net, ipaddr.js and WHATWG URL; nothing is
// resolved in DNS.
// Host names are deliberately not accepted where an address is bound or queried: binding happens
// before the privilege drop and must not depend on a lookup.

import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import type { ListenAddress, ListenMode, NextHop } from './types.js';
import type { ItemParser, TextCheck } from './rules.js';

const LABEL = /^[A-Za-z0-9-]+$/;

/** Tells why `text` is not a usable domain name (RFC 1035 2.3.1, RFC 5321 2.3.5), or null if it is one. */
export function domainProblem(text: string): string | null {
  if (text === '') return 'it is empty';
  if (!/^[\x20-\x7e]*$/.test(text)) {
    const ascii = domainToASCII(text);
    return ascii === '' ? 'it has characters a domain cannot have' : `it is not ASCII; write it as ${JSON.stringify(ascii)}`;
  }
  if (isIP(text) !== 0) return 'it is an IP address';
  if (text.length > 253) return 'it is longer than 253 characters';
  for (const label of text.split('.')) {
    if (label === '') return 'it has an empty label';
    if (label.length > 63) return `label ${JSON.stringify(label)} is longer than 63 characters`;
    if (!LABEL.test(label)) return `label ${JSON.stringify(label)} has characters other than letters, digits and hyphens`;
    if (label.startsWith('-') || label.endsWith('-')) return `label ${JSON.stringify(label)} starts or ends with a hyphen`;
  }
  return null;
}

/** Parses a local domain, lower-cased. */
export const parseDomain: ItemParser<string> = (text) => {
  const problem = domainProblem(text);
  return problem === null ? { ok: true, value: text.toLowerCase() } : { ok: false, reason: `is not a valid domain name: ${problem}` };
};

/** Checks the server's own name (EHLO, greeting, Received, Message-ID). */
export const checkHostname: TextCheck = (text) => {
  const problem = domainProblem(text);
  return problem === null ? null : `must be a fully qualified domain name (${problem})`;
};

function parsePort(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/** Splits `"[v6]:port"`, `"[v6]"`, `"v4:port"` or a bare address into host and port text. */
function splitHostPort(text: string): { host: string; port: string | null; bracketed: boolean } {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] ?? null, bracketed: true };
  if (isIP(text) === 6) return { host: text, port: null, bracketed: false };
  const colon = text.lastIndexOf(':');
  return colon < 0 ? { host: text, port: null, bracketed: false } : { host: text.slice(0, colon), port: text.slice(colon + 1), bracketed: false };
}

const LISTEN_MODES: readonly ListenMode[] = ['smtp', 'submission', 'submissions'];

/**
 * Parses a listen address with an optional mode: `"0.0.0.0:25"`, `"[::]:25"`, `"[::1]:2525"`,
 * `"0.0.0.0:587/submission"`, `"[::]:465/submissions"`.
 */
export const parseListen: ItemParser<ListenAddress> = (text) => {
  const slash = text.lastIndexOf('/');
  const modeText = slash < 0 ? 'smtp' : text.slice(slash + 1);
  const mode = LISTEN_MODES.find((m) => m === modeText);
  if (mode === undefined) {
    return { ok: false, reason: `has an unknown mode "${modeText}"; use "/smtp" (the default), "/submission" or "/submissions"` };
  }
  const { host, port, bracketed } = splitHostPort(slash < 0 ? text : text.slice(0, slash));
  const family = isIP(host);
  const example = family === 6 ? `"[${host}]:25"` : family === 4 ? `"${host}:25"` : '"0.0.0.0:25" or "[::]:25"';
  if (family === 0 || (family === 6) !== bracketed) {
    return { ok: false, reason: `is not an IP address and port such as ${example} (IPv6 in brackets; host names are not looked up)` };
  }
  if (port === null) return { ok: false, reason: `has no port; write it as ${example}` };
  const portNumber = parsePort(port);
  if (portNumber === null) return { ok: false, reason: `has a port outside 1 to 65535` };
  return { ok: true, value: { host, port: portNumber, mode, text } };
};

/** Parses a DNS resolver address: `"192.0.2.53"`, `"127.0.0.1:5353"`, `"::1"`, `"[::1]:5353"`. */
export const parseDnsServer: ItemParser<string> = (text) => {
  const { host, port, bracketed } = splitHostPort(text);
  const family = isIP(host);
  if (family === 0 || (family === 4 && bracketed)) {
    return { ok: false, reason: 'is not an IP address with an optional port such as "192.0.2.53", "127.0.0.1:5353" or "[::1]:53"' };
  }
  if (port !== null && parsePort(port) === null) return { ok: false, reason: 'has a port outside 1 to 65535' };
  return { ok: true, value: text };
};

/**
 * Parses a relay network in CIDR notation, `"192.0.2.0/24"` or `"2001:db8::/32"`; a bare address
 * means one host (`/32` or `/128`). Host bits set below the prefix are an error, as in Postfix.
 */
export const parseCidr: ItemParser<string> = (text) => {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if ((family !== 4 && family !== 6) || address.includes('%')) {
    return { ok: false, reason: 'is not a network such as "192.0.2.0/24" or "2001:db8::/32"' };
  }
  const bits = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  const prefix = /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > bits) return { ok: false, reason: `has a prefix length outside 0 to ${bits}` };
  const cidr = `${address}/${prefix}`;
  const network = (family === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(cidr);
  if (network.toString() !== ipaddr.parse(address).toString()) {
    return { ok: false, reason: `has host bits set; did you mean "${network.toString()}/${prefix}"?` };
  }
  return { ok: true, value: cidr };
};

/**
 * Parses a relay next hop: `"[192.0.2.1]:2525"`, `"[2001:db8::1]"`, `"relay.example:587"` or
 * `"relay.example"` (port 25). A host name is looked up as A/AAAA records, never as MX.
 */
export const parseNextHop: ItemParser<NextHop> = (text) => {
  const { host, port, bracketed } = splitHostPort(text);
  const family = isIP(host);
  if (bracketed && family === 0) return { ok: false, reason: 'has brackets around something that is not an IP address' };
  if (!bracketed && family === 6) return { ok: false, reason: `is an IPv6 address without brackets; write it as "[${host}]:25"` };
  if (family === 0 && domainProblem(host) !== null) return { ok: false, reason: `is not a host such as "[192.0.2.1]:25" or "relay.example:587" (${domainProblem(host) ?? ''})` };
  const portNumber = port === null ? 25 : parsePort(port);
  if (portNumber === null) return { ok: false, reason: 'has a port outside 1 to 65535' };
  return { ok: true, value: { host: host.toLowerCase(), port: portNumber } };
};

/** Checks a next hop (see parseNextHop). */
export const checkNextHop: TextCheck = (text) => {
  const r = parseNextHop(text);
  return r.ok ? null : r.reason;
};

/** Parses a transport: a domain and its next hop, `"example.org [192.0.2.5]:2525"`. */
export const parseTransport: ItemParser<{ readonly domain: string; readonly nextHop: NextHop }> = (text) => {
  const [domain = '', hop = '', ...rest] = text.trim().split(/\s+/);
  const domainIssue = domainProblem(domain);
  if (domainIssue !== null || hop === '' || rest.length > 0) {
    return { ok: false, reason: 'is not a domain and a next hop such as "example.org [192.0.2.5]:2525"' };
  }
  const next = parseNextHop(hop);
  return next.ok ? { ok: true, value: { domain: domain.toLowerCase(), nextHop: next.value } } : next;
};

/** Checks a file or directory path: not empty, no NUL byte. Relative paths stay as written. */
export const checkPath: TextCheck = (text) => (text === '' || text.includes('\0') ? 'must be a non-empty path' : null);

/** Checks a path that may be left empty ("" means none). */
export const checkOptionalPath: TextCheck = (text) => (text.includes('\0') ? 'must be a path or ""' : null);

/** Parses a file path item (a PEM file): not empty, no NUL byte. */
export const parsePemPath: ItemParser<string> = (text) => {
  const problem = checkPath(text);
  return problem === null ? { ok: true, value: text } : { ok: false, reason: problem };
};

/** Checks a user or group name (or a numeric id written as a string). */
export const checkAccountName: TextCheck = (text) =>
  /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/.test(text) ? null : 'must be a user or group name such as "mta"';

/** Checks the recipient delimiter: empty (off) or one printable ASCII character that is not a letter, digit or "@". */
export const checkDelimiter: TextCheck = (text) =>
  text === '' || (/^[\x21-\x7e]$/.test(text) && !/^[A-Za-z0-9@]$/.test(text))
    ? null
    : 'must be "" or one punctuation character such as "+" or "-"';
