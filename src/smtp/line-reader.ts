// Splits the command-phase byte stream into command lines. Pure and incremental: the listener
// pushes socket chunks in and pulls lines out one at a time, so that after DATA or BDAT it can
// take back the bytes that follow (they are message data, not commands). No sockets, no timers.
//
// Usage (the listener's read loop):
//   reader.push(chunk);
//   for (let item = reader.next(); item; item = reader.next()) {
//     handle(item);                                  // may answer 354 or accept BDAT
//     if (switchedToData) { decoder.push(reader.takeRest()); break; }
//   }
// Pull-based so that nothing past the DATA line is ever interpreted as a command (RFC 2920 3.1:
// DATA is the last command of a pipelined group, and its data starts only after 354).
// Whether a line is acceptable (UTF-8, control characters) is for command-line.ts to say.

import { isUtf8 } from 'node:buffer';

/** One item of the command stream. */
export type CommandLineItem =
  | { kind: 'line'; line: string }
  | { kind: 'too-long' }
  | { kind: 'bare-lf' };

/** Options of CommandLineReader. */
export interface CommandLineReaderOptions {
  /** Longest command line accepted, CRLF included (RFC 5321 4.5.3.1.4). @default 512 */
  maxLineBytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * Splits bytes into CRLF-terminated command lines, decoded as UTF-8 (RFC 6531 allows UTF-8
 * in addresses) by decodeCommandBytes, so a line that is not UTF-8 can still be told apart.
 *
 * - A line ending in LF without CR yields 'bare-lf' (RFC 5321 2.3.8; chasquid and Postfix
 *   refuse them too), and the reader carries on after that LF.
 * - A line longer than maxLineBytes yields one 'too-long'; the rest of it is dropped as it
 *   arrives, up to and including the next LF, so memory stays bounded by one line plus one chunk.
 */
export class CommandLineReader {
  readonly #maxLineBytes: number;
  #buf: Buffer = EMPTY;
  #pos = 0;
  /** Dropping the tail of an over-long line until the next LF. */
  #isDiscarding = false;

  constructor(opts: CommandLineReaderOptions = {}) {
    this.#maxLineBytes = opts.maxLineBytes ?? 512;
    if (!(this.#maxLineBytes >= 3)) throw new RangeError(`maxLineBytes must be at least 3: got ${this.#maxLineBytes}`);
  }

  /** Appends received bytes; call next() until it returns undefined before pushing again. */
  push(chunk: Buffer): void {
    if (this.#isDiscarding) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) return;
      this.#isDiscarding = false;
      chunk = chunk.subarray(lf + 1);
    }
    if (chunk.length === 0) return;
    const pending = this.#buf.subarray(this.#pos);
    this.#buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    this.#pos = 0;
  }

  /** Returns the next complete item, or undefined when more bytes are needed. */
  next(): CommandLineItem | undefined {
    const buf = this.#buf;
    const start = this.#pos;
    const lf = buf.indexOf(LF, start);
    if (lf < 0) return this.#checkPartialLine();
    this.#pos = lf + 1;
    if (lf + 1 - start > this.#maxLineBytes) return { kind: 'too-long' };
    if (lf === start || buf[lf - 1] !== CR) return { kind: 'bare-lf' };
    return { kind: 'line', line: decodeCommandBytes(buf.subarray(start, lf - 1)) };
  }

  /** Returns the bytes received but not yet read as lines, and forgets them. */
  takeRest(): Buffer {
    const rest = this.#buf.subarray(this.#pos);
    this.#buf = EMPTY;
    this.#pos = 0;
    return rest;
  }

  /** Tells whether bytes are buffered (a partial line, or lines not yet read). */
  get hasBufferedBytes(): boolean {
    return this.#pos < this.#buf.length;
  }

  /** Reports 'too-long' once a partial line can no longer fit, and starts discarding it. */
  #checkPartialLine(): CommandLineItem | undefined {
    // A partial line of maxLineBytes octets cannot still end with CRLF within the limit.
    if (this.#buf.length - this.#pos < this.#maxLineBytes) return undefined;
    this.#buf = EMPTY;
    this.#pos = 0;
    this.#isDiscarding = true;
    return { kind: 'too-long' };
  }
}

/**
 * Decodes UTF-8 (RFC 3629), keeping each byte of an invalid sequence as the lone surrogate
 * U+DC80..U+DCFF (Python's "surrogateescape", PEP 383). Valid UTF-8 never decodes to a lone
 * surrogate, so hasInvalidUtf8 can tell a line that was not UTF-8 from one holding U+FFFD.
 */
export function decodeCommandBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] as number;
    const length = sequenceLength(lead);
    const sequence = bytes.subarray(i, i + length);
    // isUtf8 checks the continuation bytes, overlong forms and surrogates of this one sequence.
    if (length > 0 && sequence.length === length && isUtf8(sequence)) {
      text += sequence.toString('utf8');
      i += sequence.length;
    } else {
      text += String.fromCharCode(0xdc00 + lead);
      i += 1;
    }
  }
  return text;
}

/** Tells whether a line from decodeCommandBytes held bytes that are not UTF-8. */
export function hasInvalidUtf8(line: string): boolean {
  // With the u flag a paired surrogate is one code point, so \p{Cs} matches only lone ones.
  return /\p{Cs}/u.test(line);
}

/** The length of the UTF-8 sequence a lead byte starts (RFC 3629 4); 0 when it starts none. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}
