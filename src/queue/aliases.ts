// The aliases file (aliases(5), the classic /etc/aliases format): `name: target, target`, lines
// that start with a blank continue the one before, comment lines start with `#`. Pure: text in,
// entries with their file and line out, every problem collected; no file is read here. Pipes,
// files and `:include:` are refused: mta delivers to Maildir and the relay only. Expansion and
// loop checks are alias-table.ts's.
import { formatLocalPart, parsePath } from '../smtp/address.js';

/** One alias: a local part and what it expands to, with where it is defined. */
export interface AliasEntry {
  /** The local part it matches in every local domain: lower-cased, quotes removed. */
  readonly name: string;
  /** `user@domain` (normalised as SMTP writes it) or an unqualified `user`. */
  readonly targets: readonly string[];
  readonly file: string;
  readonly line: number;
}

/** One problem in an aliases file, printed as `FILE:LINE: message`. */
export interface AliasProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** What parsing found: the good entries, and every problem. */
export interface ParsedAliases {
  readonly entries: readonly AliasEntry[];
  readonly problems: readonly AliasProblem[];
}

/** A physical line's text, with its number. */
interface Part {
  readonly text: string;
  readonly line: number;
}

/** Where an unqualified target is checked: any syntactically valid domain will do. */
const PROBE_DOMAIN = 'unqualified.invalid';

/** Parses aliases text; `file` names it in entries and problems. */
export function parseAliases(text: string, file: string): ParsedAliases {
  const problems: AliasProblem[] = [];
  const report = (line: number, message: string) => void problems.push({ file, line, message });
  const entries = new Map<string, AliasEntry>();
  for (const parts of logicalLines(text, report)) {
    const entry = parseEntry(parts, file, report);
    if (entry === undefined) continue;
    const first = entries.get(entry.name);
    if (first !== undefined) report(entry.line, `alias "${entry.name}" is defined twice (first on line ${first.line})`);
    else entries.set(entry.name, entry);
  }
  return { entries: [...entries.values()], problems: problems.sort((a, b) => a.line - b.line) };
}

/** Groups physical lines into aliases: a line that starts with a space or tab continues the one before. */
function logicalLines(text: string, report: (line: number, message: string) => void): Part[][] {
  const logical: Part[][] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    // aliases(5): empty lines and lines whose first non-blank character is "#" are ignored.
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const part = { text: raw.trim(), line };
    if (!/^[ \t]/.test(raw)) logical.push([part]);
    else if (logical.length > 0) logical[logical.length - 1]?.push(part);
    else report(line, 'continuation line (starting with a blank) without an alias before it');
  });
  return logical;
}

/** Parses one alias from its lines; undefined (with problems reported) when it is unusable. */
function parseEntry(parts: readonly Part[], file: string, report: (line: number, message: string) => void): AliasEntry | undefined {
  const [head, ...rest] = parts;
  if (head === undefined) return undefined;
  const named = splitName(head.text);
  if ('problem' in named) {
    report(head.line, named.problem);
    return undefined;
  }
  let isBad = false;
  const targets: string[] = [];
  for (const part of [{ text: named.value, line: head.line }, ...rest]) {
    for (const written of splitTargets(part.text)) {
      const target = parseTarget(written);
      if ('problem' in target) {
        report(part.line, `alias "${named.name}": ${target.problem}`);
        isBad = true;
      } else if (!targets.includes(target.address)) targets.push(target.address);
    }
  }
  if (targets.length === 0 && !isBad) report(head.line, `alias "${named.name}" has no targets`);
  // An alias with a bad target is left out whole: delivering to only some of its targets would hide the mistake.
  return isBad || targets.length === 0 ? undefined : { name: named.name, targets, file, line: head.line };
}

/** Splits `name: value` (the name optionally in double quotes, without escapes). */
function splitName(text: string): { name: string; value: string } | { problem: string } {
  let name: string;
  let after: string;
  if (text.startsWith('"')) {
    const close = text.indexOf('"', 1);
    if (close < 0) return { problem: 'unterminated quoted alias name' };
    name = text.slice(1, close);
    after = text.slice(close + 1).trimStart();
    if (!after.startsWith(':')) return { problem: `missing ":" after alias name "${name}"` };
  } else {
    const colon = text.indexOf(':');
    if (colon < 0) return { problem: `missing ":" after the alias name in "${text}"` };
    name = text.slice(0, colon).trim();
    after = text.slice(colon);
    if (/[\s",#@]/.test(name)) {
      return { problem: `bad alias name "${name}": quote a name that holds a blank, ",", "#" or "@"` };
    }
  }
  if (name === '') return { problem: 'empty alias name' };
  // A name is a local part: a control character could never arrive in RCPT, so it is a typo.
  if ([...name].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\x7f')) return { problem: 'alias name holds a control character' };
  return { name: name.toLowerCase(), value: after.slice(1) };
}

/** Splits a value at the commas outside double quotes; empty items (a trailing comma) are dropped. */
function splitTargets(value: string): string[] {
  const items: string[] = [];
  let current = '';
  let isQuoted = false;
  for (const ch of value) {
    if (ch === '"') isQuoted = !isQuoted;
    if (ch === ',' && !isQuoted) {
      items.push(current.trim());
      current = '';
    } else current += ch;
  }
  items.push(current.trim());
  return items.filter((item) => item !== '');
}

/** Checks one target: an address with or without a domain; pipes, files and includes are refused. */
function parseTarget(written: string): { address: string } | { problem: string } {
  if (written.startsWith('|')) return { problem: `pipes to commands are not supported: "${written}"` };
  if (written.startsWith('/')) return { problem: `deliveries to files are not supported: "${written}"` };
  if (written.toLowerCase().startsWith(':include:')) return { problem: `":include:" is not supported: "${written}"` };
  const options = { utf8Allowed: true };
  const qualified = parsePath(`<${written}>`, 'forward', options);
  if (qualified.ok && qualified.path.domain !== '') return { address: qualified.path.address };
  const unqualified = parsePath(`<${written}@${PROBE_DOMAIN}>`, 'forward', options);
  if (unqualified.ok) return { address: formatLocalPart(unqualified.path.localPart) };
  const reason = qualified.ok ? unqualified.reason : qualified.reason;
  return { problem: `bad target "${written}": ${reason}` };
}
