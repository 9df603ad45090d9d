// A Writable into an open file that writes in blocks: bytes are gathered in one reused 64 KiB
// buffer and written with one call when it is full (a chunk at least that large is written as it
// is), so a small message costs one write instead of one per network read, and a large one makes
// no garbage beyond the chunks themselves. The writes are synchronous (fsio/durable.ts says why).
// A write error is remembered and reported by the owner at commit, not mid-DATA: after a failure
// the rest of the stream is accepted and dropped, so the client still reads its reply in step.
import { Writable } from 'node:stream';
import { writeFully } from './durable.js';

const BLOCK_BYTES = 64 * 1024;

/** Turns the bytes on their way to the file (e.g. CRLF to LF) into pieces; `end` returns what it held back. */
export interface ByteTransform {
  push(chunk: Buffer): readonly Buffer[];
  end(): readonly Buffer[];
}

export class FileSink extends Writable {
  /** Bytes written to the file so far (after the transform). */
  bytesWritten = 0;
  /** The first write error, if any. */
  failure: unknown;
  private readonly block = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;

  /** `prefix` goes first (e.g. delivery headers), in the same first write as the data. */
  constructor(
    private readonly fd: number,
    private readonly transform?: ByteTransform,
    prefix?: Buffer,
  ) {
    super();
    if (prefix) this.add(prefix);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.transform) this.add(chunk);
    else for (const piece of this.transform.push(chunk)) this.add(piece);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    for (const piece of this.transform?.end() ?? []) this.add(piece);
    this.flushBlock();
    done();
  }

  private add(piece: Buffer): void {
    if (this.failure !== undefined) return;
    if (piece.length >= BLOCK_BYTES) {
      this.flushBlock();
      return this.writeOut(piece);
    }
    const room = BLOCK_BYTES - this.used;
    if (piece.length > room) {
      piece.copy(this.block, this.used, 0, room);
      this.used = BLOCK_BYTES;
      this.flushBlock();
      piece = piece.subarray(room);
    }
    this.used += piece.copy(this.block, this.used);
  }

  private flushBlock(): void {
    const used = this.used;
    this.used = 0;
    if (used > 0) this.writeOut(this.block.subarray(0, used));
  }

  /** Writes bytes at once; never throws (a failure is kept in `failure`, later bytes are dropped). */
  private writeOut(data: Buffer): void {
    if (this.failure !== undefined) return;
    try {
      this.bytesWritten += writeFully(this.fd, data);
    } catch (err) {
      this.failure = err;
    }
  }
}
