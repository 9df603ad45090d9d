// Decodes the message bytes a client sends after 354 (DATA) or in BDAT chunks into the body:
// dot-unstuffing, end-of-data detection, size and line limits, bare CR/LF policy. Pure and
// incremental; it never buffers more than it is given and never looks at headers or MIME.
//
// The rules, and why:
// - Only a real <CRLF>.<CRLF> ends DATA (RFC 5321 4.1.1.4), or `.<CRLF>` as the very first line.
//   A bare LF or CR never ends a line that can precede the terminator, and `.` followed by a bare
//   ending is never the terminator, so `\n.\n`, `\r.\r`, `\n.\r\n`, `\r\n.\n` cannot end a message
//   (SMTP smuggling, CVE-2023-51764 and kin).
// - 'reject': the first bare CR or LF sets problem 'bare-lf' (chasquid's dotreader, Postfix
//   smtpd_forbid_bare_newline=reject); decoding goes on silently to the real terminator.
// - 'normalize': a bare LF or bare CR becomes CRLF in the body and counts as a line end for
//   dot-unstuffing and line length, exactly as Postfix's "normalize" treats it; but it still never
//   makes the next line a possible terminator.
// - Size (after unstuffing and normalizing) over maxMessageBytes sets 'too-big'; a text line over
//   maxLineBytes including CRLF, not counting the stuffing dot (RFC 5321 4.5.3.1.6), sets
//   'line-too-long'. RFC 5321 4.5.3.1 lets a server refuse such lines rather than silently
//   fold or truncate them (which would change signed content); pass Infinity to lift the limit.
// - After any problem the body stops (nothing more is emitted) but the bytes keep being read,
//   so the session can answer once the client has finished, and `bytes` keeps counting.
// - Each push yields at most one body buffer, however many dots it drops: a chunk decoded as one
//   run is passed on as a subarray, anything else is copied into one buffer. One buffer per
//   leading dot cost a write(2) each in the spool (issue #8, item 5: `..` lines ran ~230x slower).

/** Why a message cannot be accepted; the first problem found wins. */
export type DecodeProblem = 'too-big' | 'bare-lf' | 'line-too-long';

/** Options of DataDecoder and ChunkDecoder. */
export interface DecoderOptions {
  /** Largest body accepted, in octets after unstuffing (RFC 1870 SIZE). */
  maxMessageBytes: number;
  /** What to do with a CR or LF that is not part of a CRLF pair (RFC 5321 2.3.8). @default 'reject' */
  bareLinefeed?: 'reject' | 'normalize';
  /** Longest text line, CRLF included (RFC 5321 4.5.3.1.6); Infinity for no limit. @default 1000 */
  maxLineBytes?: number;
}

/** What one push of DATA bytes produced. */
export interface DataPushResult {
  /** Body bytes to store: at most one buffer, a subarray of the input when nothing was dropped or added. Empty after a problem. */
  body: Buffer[];
  /** The end of data was found. */
  done: boolean;
  /** When done: the bytes after the terminator (pipelined commands), possibly empty; else undefined. */
  rest: Buffer | undefined;
}

import { CR, CRLF_BYTES, DOT, EMPTY, LF, LF_BYTES } from './bytes.js';


/**
 * Where the scanner is: at a line start, after a leading dot (withheld), after `.` CR
 * (both withheld: they may be the terminator), inside a line, or after a CR that already
 * went out with the body and whose partner LF is awaited.
 */
type Mode = 'line-start' | 'dot' | 'dot-cr' | 'text' | 'cr';

/** The shared byte scanner; DataDecoder and ChunkDecoder differ only in dot handling. */
class BodyScanner {
  bytes = 0;
  problem: DecodeProblem | undefined;
  isDone = false;
  #mode: Mode = 'line-start';
  /** The current line began after a real CRLF (or at the start of data). */
  #isRealStart = true;
  #lineBytes = 0;
  readonly #maxMessageBytes: number;
  readonly #maxLineContent: number;
  readonly #isNormalizing: boolean;
  /** DATA (RFC 5321 4.5.2) rather than BDAT (RFC 3030): leading dots and the terminator apply. */
  readonly #isDotStuffed: boolean;
  // State of the chunk being scanned, kept only during scan().
  #chunk = EMPTY;
  #out = new BodyOutput();
  #runStart = 0;
  #nextCr = -1;
  #nextLf = -1;

  constructor(opts: DecoderOptions, isDotStuffed: boolean) {
    this.#isDotStuffed = isDotStuffed;
    this.#maxMessageBytes = opts.maxMessageBytes;
    this.#maxLineContent = (opts.maxLineBytes ?? 1000) - 2;
    this.#isNormalizing = opts.bareLinefeed === 'normalize';
  }

  /** Scans one chunk; returns the body produced and the index where scanning stopped. */
  scan(chunk: Buffer): { body: Buffer[]; end: number } {
    this.#chunk = chunk;
    this.#runStart = 0;
    this.#nextCr = this.#nextLf = -1;
    let i = 0;
    while (i < chunk.length && !this.isDone) i = this.#step(i);
    if (!this.isDone) this.#flush(chunk.length);
    return { body: this.#takeOut(), end: i };
  }

  /** Ends a BDAT message: a CR still waiting for its LF was bare. */
  finish(): Buffer[] {
    if (this.#mode === 'cr') this.#bareEnding(LF_BYTES);
    return this.#takeOut();
  }

  #takeOut(): Buffer[] {
    this.#chunk = EMPTY;
    return this.#out.take();
  }

  #step(i: number): number {
    const b = this.#chunk[i] as number;
    switch (this.#mode) {
      case 'line-start': return this.#atLineStart(i, b);
      case 'dot': return this.#afterDot(i, b);
      case 'dot-cr': return this.#afterDotCr(i, b);
      case 'cr': return this.#afterCr(i, b);
      case 'text': return this.#inText(i);
    }
  }

  #atLineStart(i: number, b: number): number {
    this.#mode = 'text';
    if (b !== DOT || !this.#isDotStuffed) return i;
    // RFC 5321 4.5.2: drop the leading dot; only after a real CRLF may it start the terminator.
    this.#flush(i);
    this.#runStart = i + 1;
    if (this.#isRealStart) this.#mode = 'dot';
    return i + 1;
  }

  #afterDot(i: number, b: number): number {
    if (b !== CR) {
      this.#mode = 'text';
      return i;
    }
    this.#runStart = i + 1; // withhold the CR: it belongs to the terminator if LF follows
    this.#mode = 'dot-cr';
    return i + 1;
  }

  #afterDotCr(i: number, b: number): number {
    if (b === LF) {
      this.isDone = true;
      return i + 1;
    }
    this.#bareEnding(CRLF_BYTES); // the withheld CR was bare
    return i;
  }

  #afterCr(i: number, b: number): number {
    if (b === LF) {
      this.#endLine(true); // the LF goes out with the run, after its CR
      return i + 1;
    }
    this.#flush(i);
    this.#bareEnding(LF_BYTES); // the CR already went out; an LF completes it
    return i;
  }

  #inText(i: number): number {
    const chunk = this.#chunk;
    const j = this.#nextSpecial(i);
    if (this.#lineBytes + (j - i) > this.#maxLineContent) this.#lineTooLong(i);
    this.#lineBytes += j - i;
    if (j === chunk.length) return j;
    if (chunk[j] === CR) {
      this.#mode = 'cr';
      return j + 1;
    }
    this.#flush(j); // a bare LF: replace it
    this.#runStart = j + 1;
    this.#bareEnding(CRLF_BYTES);
    return j + 1;
  }

  /**
   * Reports the line that grows too long in the text from i. If the body is already too big at
   * its first octet too many, too-big is the earlier problem: checking it here, not only when the
   * run is flushed, makes the problem reported independent of where the input was chunked.
   */
  #lineTooLong(i: number): void {
    const firstOver = i + this.#maxLineContent - this.#lineBytes;
    if (this.bytes + (firstOver + 1 - this.#runStart) > this.#maxMessageBytes) this.#setProblem('too-big');
    this.#setProblem('line-too-long');
  }

  /** Finds the next CR or LF at or after i, remembering both so each byte is searched once. */
  #nextSpecial(i: number): number {
    const chunk = this.#chunk;
    if (this.#nextCr < i) this.#nextCr = indexOrEnd(chunk, CR, i);
    if (this.#nextLf < i) this.#nextLf = indexOrEnd(chunk, LF, i);
    return Math.min(this.#nextCr, this.#nextLf);
  }

  #bareEnding(replacement: Buffer): void {
    if (this.#isNormalizing) this.#emit(replacement);
    else this.#setProblem('bare-lf');
    this.#endLine(false);
  }

  #endLine(isReal: boolean): void {
    this.#mode = 'line-start';
    this.#isRealStart = isReal;
    this.#lineBytes = 0;
  }

  #flush(end: number): void {
    if (end > this.#runStart) this.#emit(this.#chunk, this.#runStart, end);
    this.#runStart = end;
  }

  #emit(source: Buffer, start = 0, end = source.length): void {
    this.bytes += end - start;
    if (this.bytes > this.#maxMessageBytes) this.#setProblem('too-big');
    if (this.problem === undefined) this.#out.append(source, start, end, this.#chunk.length);
  }

  #setProblem(problem: DecodeProblem): void {
    this.problem ??= problem;
  }
}

/**
 * Gathers the body pieces of one push into one buffer. A single piece is handed on as a
 * subarray; a second one starts a copy sized for the whole chunk (unstuffing only shrinks it,
 * normalizing may grow it, and then the copy doubles). Pieces arrive as ranges, so dropping a
 * dot per line allocates nothing per line.
 */
class BodyOutput {
  #source = EMPTY;
  #start = 0;
  #end = 0;
  #copy: Buffer | undefined;
  #length = 0;

  /** Appends source[start, end); sizeHint is the length of the chunk being decoded. */
  append(source: Buffer, start: number, end: number, sizeHint: number): void {
    const n = end - start;
    if (this.#length === 0) {
      this.#source = source;
      this.#start = start;
      this.#end = end;
    } else {
      if (this.#copy === undefined) this.#startCopy(Math.max(sizeHint + CRLF_BYTES.length, this.#length + n));
      else if (this.#length + n > this.#copy.length) this.#grow(this.#length + n);
      source.copy(this.#copy as Buffer, this.#length, start, end);
    }
    this.#length += n;
  }

  /** Returns the gathered body (none or one buffer) and starts over. */
  take(): Buffer[] {
    if (this.#length === 0) return [];
    const body = this.#copy?.subarray(0, this.#length) ?? this.#source.subarray(this.#start, this.#end);
    this.#source = EMPTY;
    this.#copy = undefined;
    this.#length = 0;
    return [body];
  }

  #startCopy(bytes: number): void {
    this.#copy = Buffer.allocUnsafe(bytes);
    this.#source.copy(this.#copy, 0, this.#start, this.#end);
  }

  #grow(bytes: number): void {
    const grown = Buffer.allocUnsafe(Math.max(2 * (this.#copy as Buffer).length, bytes));
    (this.#copy as Buffer).copy(grown, 0, 0, this.#length);
    this.#copy = grown;
  }
}

function indexOrEnd(chunk: Buffer, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at < 0 ? chunk.length : at;
}

/** Decodes DATA (RFC 5321 4.1.1.4): dot-unstuffs and finds the real end of data. */
export class DataDecoder {
  readonly #scanner: BodyScanner;

  constructor(opts: DecoderOptions) {
    this.#scanner = new BodyScanner(opts, true);
  }

  /** Decodes the next bytes; once done, further pushes return everything as rest. */
  push(chunk: Buffer): DataPushResult {
    if (this.#scanner.isDone) return { body: [], done: true, rest: chunk };
    const { body, end } = this.#scanner.scan(chunk);
    const done = this.#scanner.isDone;
    return { body, done, rest: done ? chunk.subarray(end) : undefined };
  }

  /** Body octets decoded so far (after unstuffing), counted on even after a problem. */
  get bytes(): number {
    return this.#scanner.bytes;
  }

  /** The first problem found, if any; when set, the message must be refused. */
  get problem(): DecodeProblem | undefined {
    return this.#scanner.problem;
  }
}

/**
 * Decodes the chunks of BDAT (RFC 3030): no dot-stuffing and no terminator. The caller slices
 * each BDAT's announced octets off the stream and pushes only those; CR/LF pairs split across
 * chunks are recognised. Call end() (or finish()) after the LAST chunk.
 */
export class ChunkDecoder {
  readonly #scanner: BodyScanner;

  constructor(opts: DecoderOptions) {
    this.#scanner = new BodyScanner(opts, false);
  }

  /** Marks the start of a BDAT chunk; state deliberately carries over (a CRLF may straddle two). */
  startChunk(): void {}

  /** Decodes bytes of the current chunk into body buffers (empty after a problem). */
  push(chunk: Buffer): Buffer[] {
    return this.#scanner.scan(chunk).body;
  }

  /** Ends the message: returns the last body bytes (an LF completing a trailing bare CR) and the problem. */
  end(): { body: Buffer[]; problem: DecodeProblem | undefined } {
    const body = this.#scanner.finish();
    return { body, problem: this.#scanner.problem };
  }

  /**
   * Ends the message and returns its problem. Unlike end() it cannot hand back body bytes, so a
   * message ending in a bare CR keeps that CR un-normalized; prefer end().
   */
  finish(): DecodeProblem | undefined {
    return this.end().problem;
  }

  /** Body octets decoded so far, counted on even after a problem. */
  get bytes(): number {
    return this.#scanner.bytes;
  }

  /** The first problem found, if any. */
  get problem(): DecodeProblem | undefined {
    return this.#scanner.problem;
  }
}
