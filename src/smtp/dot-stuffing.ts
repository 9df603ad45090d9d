// Encodes a message body for DATA on the sending side (the relay client): doubles a leading dot
// (RFC 5321 4.5.2), never sends a bare CR or LF (RFC 5321 2.3.8: each becomes CRLF), ends the
// last line with CRLF and appends the `.<CRLF>` terminator. Pure and incremental; the
// stream wrapper is for piping a stored message into a socket.
import { Transform, type TransformCallback } from 'node:stream';

import { CR, CRLF_BYTES, DOT, EMPTY, LF, LF_BYTES } from './bytes.js';

const DOT_BYTES = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');

/** Turns body bytes into DATA wire bytes, chunk by chunk; end() adds the terminator. */
export class DotStuffer {
  #isLineStart = true;
  /** The last chunk ended with a CR (already sent); the next byte says whether it was bare. */
  #isAfterCr = false;
  #chunk = EMPTY;
  #out: Buffer[] = [];
  #runStart = 0;
  #nextCr = -1;
  #nextLf = -1;

  /** Encodes the next body bytes; returns wire bytes, mostly subarrays of the input. */
  push(chunk: Buffer): Buffer[] {
    this.#chunk = chunk;
    this.#runStart = 0;
    this.#nextCr = this.#nextLf = -1;
    let i = 0;
    if (this.#isAfterCr && chunk.length > 0) i = this.#completeCr(0);
    while (i < chunk.length) i = this.#line(i);
    this.#flush(chunk.length);
    return this.#takeOut();
  }

  /** Finishes the body: completes the last line with CRLF and appends `.<CRLF>`. */
  end(): Buffer[] {
    if (this.#isAfterCr) this.#out.push(LF_BYTES);
    else if (!this.#isLineStart) this.#out.push(CRLF_BYTES);
    this.#out.push(TERMINATOR);
    this.#isAfterCr = false;
    this.#isLineStart = true;
    return this.#takeOut();
  }

  /** Encodes from i to the end of the current line (or chunk); returns where it stopped. */
  #line(i: number): number {
    const chunk = this.#chunk;
    if (this.#isLineStart) {
      this.#isLineStart = false;
      if (chunk[i] === DOT) {
        this.#flush(i);
        this.#out.push(DOT_BYTES); // the original dot follows in the run
      }
    }
    const j = this.#nextLineEnd(i);
    if (j === chunk.length) return j;
    if (chunk[j] === LF) {
      this.#flush(j); // a bare LF becomes CRLF
      this.#out.push(CRLF_BYTES);
      this.#runStart = j + 1;
      this.#isLineStart = true;
      return j + 1;
    }
    if (j + 1 === chunk.length) {
      this.#isAfterCr = true; // the CR goes out now; the next chunk decides
      return j + 1;
    }
    return this.#completeCr(j + 1);
  }

  /** Handles the byte after a CR at i: LF completes the pair, anything else needs an LF inserted. */
  #completeCr(i: number): number {
    this.#isAfterCr = false;
    this.#isLineStart = true;
    if (this.#chunk[i] === LF) return i + 1;
    this.#flush(i);
    this.#out.push(LF_BYTES);
    return i;
  }

  /** Finds the next CR or LF at or after i, remembering both so each byte is searched once. */
  #nextLineEnd(i: number): number {
    if (this.#nextCr < i) this.#nextCr = indexOrEnd(this.#chunk, CR, i);
    if (this.#nextLf < i) this.#nextLf = indexOrEnd(this.#chunk, LF, i);
    return Math.min(this.#nextCr, this.#nextLf);
  }

  #flush(end: number): void {
    if (end > this.#runStart) this.#out.push(this.#chunk.subarray(this.#runStart, end));
    this.#runStart = end;
  }

  #takeOut(): Buffer[] {
    const out = this.#out;
    this.#out = [];
    this.#chunk = EMPTY;
    return out;
  }
}

function indexOrEnd(chunk: Buffer, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at < 0 ? chunk.length : at;
}

/** Returns a Transform stream that dot-stuffs a body and appends the end-of-data terminator. */
export function dotStuff(): Transform {
  const stuffer = new DotStuffer();
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      for (const buf of stuffer.push(chunk)) this.push(buf);
      done();
    },
    flush(done: TransformCallback) {
      for (const buf of stuffer.end()) this.push(buf);
      done();
    },
  });
}
