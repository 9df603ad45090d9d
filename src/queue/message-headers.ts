// The header block of a message handed to sendmail (RFC 5322 2.2, 3.4): split from the body,
// unfolded for reading, fields found and dropped by name, and address lists read for `sendmail -t`.
// Works on latin1 strings so that every byte survives; the caller decodes what it shows.
// Deliberately not a MIME parser: bodies are never looked at.

/** One header field: its name, its value unfolded (CRLFs removed), and its lines as they came. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
  /** The field's lines, each without its line end. */
  readonly lines: readonly string[];
}

/** A message split at the end of its header block. */
export interface MessageParts {
  readonly headers: readonly HeaderField[];
  /** The body lines, without line ends (empty when there is none). */
  readonly body: readonly string[];
}

// RFC 5322 3.6.8: a field name is printable US-ASCII except the colon.
const FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/** Splits lines (without their line ends) into header fields and body. */
export function splitMessage(lines: readonly string[]): MessageParts {
  const headers: { name: string; lines: string[] }[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    const field = FIELD.exec(line);
    const last = headers.at(-1);
    if (field) headers.push({ name: field[1] as string, lines: [line] });
    else if (last && /^[ \t]/.test(line)) last.lines.push(line);
    else break;
  }
  // The empty line ends the header block; a line that is neither header nor empty starts the body.
  const body = lines.slice(lines[i] === '' ? i + 1 : i);
  return {
    headers: headers.map((h) => ({ name: h.name, lines: h.lines, value: h.lines.join('').slice(h.lines[0]?.indexOf(':') ?? 0).slice(1).trim() })),
    body,
  };
}

/** Tells whether a field of that name (any case) is present. */
export function hasField(headers: readonly HeaderField[], name: string): boolean {
  const lower = name.toLowerCase();
  return headers.some((h) => h.name.toLowerCase() === lower);
}

/** Returns the values of every field with one of the names (any case), in order. */
export function fieldValues(headers: readonly HeaderField[], names: readonly string[]): string[] {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  return headers.filter((h) => wanted.has(h.name.toLowerCase())).map((h) => h.value);
}

/** Drops every field with that name (any case). */
export function withoutField(headers: readonly HeaderField[], name: string): HeaderField[] {
  const lower = name.toLowerCase();
  return headers.filter((h) => h.name.toLowerCase() !== lower);
}

/**
 * Reads the addr-specs of an address list (RFC 5322 3.4): `Name <a@b>, c@d (comment), group: e@f;`.
 * Display names, comments and group names are dropped; quoted strings are kept as written.
 */
export function addressesIn(value: string): string[] {
  const found: string[] = [];
  let text = '';
  let angle: string | undefined;
  const flush = () => {
    const address = (angle ?? text).trim();
    if (address !== '') found.push(address);
    text = '';
    angle = undefined;
  };
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '"') i = copyQuoted(value, i, (s) => (text += s));
    else if (ch === '(') i = skipComment(value, i);
    else if (ch === '<') {
      const end = value.indexOf('>', i);
      angle = value.slice(i + 1, end < 0 ? value.length : end);
      i = end < 0 ? value.length : end;
    } else if (ch === ',' || ch === ';') flush();
    else if (ch === ':' && angle === undefined) text = ''; // a group's name
    else text += ch;
  }
  flush();
  return found;
}

/** Copies a quoted string starting at `start` through its closing quote; returns the index of that quote. */
function copyQuoted(value: string, start: number, out: (s: string) => void): number {
  let i = start + 1;
  while (i < value.length && value[i] !== '"') i += value[i] === '\\' ? 2 : 1;
  out(value.slice(start, i + 1));
  return i;
}

/** Skips a comment, nested ones included; returns the index of its closing parenthesis. */
function skipComment(value: string, start: number): number {
  let depth = 0;
  for (let i = start; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '(') depth++;
    else if (value[i] === ')' && --depth === 0) return i;
  }
  return value.length;
}
