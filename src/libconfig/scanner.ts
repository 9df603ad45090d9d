// The tokenizer: turns libconfig text into tokens the way libconfig 1.8's flex scanner does
// (longest match, then rule order), and splices `@include` files in as it meets them.
// It knows nothing of the grammar; integer ranges are checked here because flex does too.

import * as path from 'node:path';
import { LibconfigSyntaxError, messages } from './errors.js';
import { parseFloatText, parseIntegerText, type NumberToken } from './numbers.js';

export type Punctuation = '=' | ',' | ';' | '{' | '}' | '[' | ']' | '(' | ')';

export type Token = (
  | { readonly kind: 'name'; readonly text: string }
  | { readonly kind: 'bool'; readonly text: string; readonly value: boolean }
  | (NumberToken & { readonly text: string })
  | { readonly kind: 'float'; readonly text: string; readonly value: number }
  | { readonly kind: 'string'; readonly text: string; readonly value: string }
  | { readonly kind: Punctuation; readonly text: string }
  | { readonly kind: 'eof'; readonly text: string }
) & { readonly file: string; readonly line: number; readonly endLine: number };

interface Source {
  readonly file: string;
  readonly text: string;
  pos: number;
  line: number;
}

/** Options the scanner needs to follow `@include` directives. */
export interface ScannerOptions {
  readonly readFile: (file: string) => string;
  readonly maxIncludeDepth: number;
  /** The directory every relative include path is joined to, whichever file includes it. */
  readonly includeDir: string;
}

const PUNCTUATION = new Set<string>(['=', ':', ',', ';', '{', '}', '[', ']', '(', ')']);
const NAME = /[A-Za-z*][-A-Za-z0-9_*]*/y;
const FLOAT_FRACTION = /[-+]?[0-9]*\.[0-9]*(?:[eE][-+]?[0-9]+)?/y;
const FLOAT_EXPONENT = /[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+/y;
const INTEGER = /[-+]?[0-9]+(?:LL?)?/y;
const HEX = /0[Xx][0-9A-Fa-f]+(?:LL?)?/y;
const BIN = /0[Bb][01]+(?:LL?)?/y;
// Octal per the project's spec of 1.8: `0o`/`0q`. It takes 8 and 9 too, so that `0o8` is reported
// as a bad octal digit rather than read as `0` followed by the name `o8`.
const OCTAL = /0[OoQq][0-9]+(?:LL?)?/y;
const INCLUDE = /@include[ \t]+"/y;
const HEX_ESCAPE = /[Xx][0-9A-Fa-f]{2}/y;
// \a \b \v are the escapes 1.8 adds to those of 1.5 (\f \n \r \t \\ \").
const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, a: 7, b: 8, v: 11, '\\': 92, '"': 34 };

function matchAt(re: RegExp, text: string, pos: number): string {
  re.lastIndex = pos;
  const m = re.exec(text);
  return m ? m[0] : '';
}

/** Reads tokens from a root text and the files it includes, one at a time. */
export class Scanner {
  readonly #stack: Source[];
  readonly #options: ScannerOptions;

  constructor(file: string, text: string, options: ScannerOptions) {
    this.#stack = [{ file, text, pos: 0, line: 1 }];
    this.#options = options;
  }

  /** Returns the next token, descending into and returning from include files as needed. */
  next(): Token {
    for (;;) {
      const src = this.#stack[this.#stack.length - 1];
      if (src === undefined) throw new TypeError('scanner used after end of input');
      this.#skipBlanksAndComments(src);
      if (src.pos < src.text.length) {
        const token = this.#token(src);
        if (token) return token;
        continue; // an include was pushed, or a string ran into the end of the file
      }
      if (this.#stack.length === 1) return { kind: 'eof', text: '', file: src.file, line: src.line, endLine: src.line };
      this.#stack.pop();
    }
  }

  #skipBlanksAndComments(src: Source): void {
    const { text } = src;
    while (src.pos < text.length) {
      const c = text[src.pos];
      if (c === '\n') {
        src.line++;
        src.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
        src.pos++;
      } else if (c === '#' || text.startsWith('//', src.pos)) {
        // 1.8 accepts a last comment with no newline after it; 1.5 does not.
        const end = text.indexOf('\n', src.pos);
        src.pos = end < 0 ? text.length : end;
      } else if (text.startsWith('/*', src.pos)) {
        // An unterminated block comment runs to the end of the file, as in flex.
        const end = text.indexOf('*/', src.pos + 2);
        const stop = end < 0 ? text.length : end + 2;
        src.line += countNewlines(text, src.pos, stop);
        src.pos = stop;
      } else {
        return;
      }
    }
  }

  #token(src: Source): Token | undefined {
    const { text, pos, file, line } = src;
    const c = text[pos] ?? '';
    const at = (kind: Punctuation | 'name', tokenText: string): Token => {
      src.pos += tokenText.length;
      return { kind, text: tokenText, file, line, endLine: line };
    };
    if (PUNCTUATION.has(c)) return at(c === ':' ? '=' : (c as Punctuation), c);
    if (c === '"') return this.#string(src);
    if (c === '@' && this.#atLineStart(src) && matchAt(INCLUDE, text, pos)) {
      this.#include(src);
      return undefined;
    }
    const name = matchAt(NAME, text, pos);
    const number = this.#number(src);
    if (number && number.text.length > name.length) return number;
    if (name) {
      src.pos += name.length;
      const lower = name.toLowerCase();
      if (lower === 'true' || lower === 'false') return { kind: 'bool', text: name, value: lower === 'true', file, line, endLine: line };
      return { kind: 'name', text: name, file, line, endLine: line };
    }
    throw new LibconfigSyntaxError(file, line, messages.garbage(String.fromCodePoint(text.codePointAt(pos) ?? 0)));
  }

  #number(src: Source): Token | undefined {
    const { text, pos, file, line } = src;
    const fraction = matchAt(FLOAT_FRACTION, text, pos);
    const exponent = matchAt(FLOAT_EXPONENT, text, pos);
    const float = fraction.length >= exponent.length ? fraction : exponent;
    const integer = [INTEGER, HEX, BIN, OCTAL].map((re) => matchAt(re, text, pos)).reduce(
      (best, m) => (m.length > best.length ? m : best),
      '',
    );
    if (!float && !integer) return undefined;
    if (float.length > integer.length) {
      src.pos += float.length;
      return { kind: 'float', text: float, value: parseFloatText(float), file, line, endLine: line };
    }
    const parsed = parseIntegerText(integer);
    if (typeof parsed === 'string') {
      const detail = parsed === 'range' ? messages.outOfRange(integer) : messages.badOctal(integer);
      throw new LibconfigSyntaxError(file, line, detail);
    }
    src.pos += integer.length;
    return { ...parsed, text: integer, file, line, endLine: line };
  }

  #atLineStart(src: Source): boolean {
    const lineStart = src.text.lastIndexOf('\n', src.pos - 1) + 1;
    return /^[ \t]*$/.test(src.text.slice(lineStart, src.pos));
  }

  #string(src: Source): Token | undefined {
    const { text, file, line } = src;
    const bytes: number[] = [];
    let pos = src.pos + 1;
    let isTruncated = false; // libconfig keeps C strings: a \x00 ends the piece
    const push = (...b: number[]): void => {
      if (!isTruncated) bytes.push(...b);
    };
    for (;;) {
      if (pos >= text.length) {
        // flex ends the input inside an unterminated string and drops the string: the parser
        // sees end of file, which is an error only where a value was still needed.
        src.line += countNewlines(text, src.pos, pos);
        src.pos = pos;
        return undefined;
      }
      const c = text[pos] ?? '';
      if (c === '"') break;
      if (c !== '\\') {
        const next = nextSpecial(text, pos);
        push(...Buffer.from(text.slice(pos, next), 'utf8'));
        pos = next;
        continue;
      }
      const e = text[pos + 1] ?? '';
      const hex = matchAt(HEX_ESCAPE, text, pos + 1);
      if (hex) {
        const byte = parseInt(hex.slice(1), 16);
        if (byte === 0) isTruncated = true;
        else push(byte);
        pos += 4;
      } else if (e in ESCAPES) {
        push(ESCAPES[e] ?? 0);
        pos += 2;
      } else {
        push(92); // a backslash before anything else stays a backslash
        pos += 1;
      }
    }
    const endLine = line + countNewlines(text, src.pos, pos);
    const raw = text.slice(src.pos, pos + 1);
    src.pos = pos + 1;
    src.line = endLine;
    return { kind: 'string', text: raw, value: Buffer.from(bytes).toString('utf8'), file, line, endLine };
  }

  #include(src: Source): void {
    const { text, file } = src;
    let pos = text.indexOf('"', src.pos) + 1;
    let target = '';
    while (pos < text.length && text[pos] !== '"') {
      // Only \\ and \" are escapes in an include path; flex drops any other backslash.
      if (text[pos] === '\\') pos++;
      target += text[pos] ?? '';
      pos++;
    }
    src.line += countNewlines(text, src.pos, pos);
    src.pos = pos + 1;
    if (this.#stack.length > this.#options.maxIncludeDepth) {
      throw new LibconfigSyntaxError(file, src.line, messages.includeDepth(target, this.#options.maxIncludeDepth));
    }
    // As libconfig's config_default_include_func (lib/libconfig.c): a relative path is joined to
    // the one include directory, not to the directory of the file that holds the directive.
    const resolved = path.isAbsolute(target) ? target : path.join(this.#options.includeDir, target);
    let included: string;
    try {
      included = this.#options.readFile(resolved);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new LibconfigSyntaxError(file, src.line, messages.includeOpen(target, reason));
    }
    this.#stack.push({ file: resolved, text: included, pos: 0, line: 1 });
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function nextSpecial(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (text[i] === '"' || text[i] === '\\') return i;
  return text.length;
}
