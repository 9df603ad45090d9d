// A Writable into an open file that writes in blocks: chunks are gathered up to 64 KiB and written
// with one call, so a small message costs one write instead of one per network read. A write
// error is remembered and reported by the owner at commit, not mid-DATA: after a failure the rest
// of the stream is accepted and dropped, so the client still reads its reply in step.
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { writeAll } from './durable.js';

const BLOCK_BYTES = 64 * 1024;

/** Turns the bytes on their way to the file (e.g. CRLF to LF); `end` returns what it held back. */
export interface ByteTransform {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

export class FileSink extends Writable {
  /** Bytes written to the file so far (after the transform). */
  bytesWritten = 0;
  /** The first write error, if any. */
  failure: unknown;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `prefix` goes first (e.g. delivery headers), in the same first write as the data. */
  constructor(
    private readonly handle: FileHandle,
    private readonly transform?: ByteTransform,
    prefix?: Buffer,
  ) {
    super();
    if (prefix) this.hold(prefix);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.failure !== undefined) return done();
    this.hold(this.transform ? this.transform.push(chunk) : chunk);
    if (this.pendingBytes < BLOCK_BYTES) return done();
    void this.writePending().then(() => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.transform && this.failure === undefined) this.hold(this.transform.end());
    void this.writePending().then(() => done());
  }

  private hold(buf: Buffer): void {
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
  }

  /** Writes what is held; never rejects (a failure is kept in `failure`). */
  private async writePending(): Promise<void> {
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.failure !== undefined || data.length === 0) return;
    try {
      this.bytesWritten += await writeAll(this.handle, data);
    } catch (err) {
      this.failure = err;
    }
  }
}
