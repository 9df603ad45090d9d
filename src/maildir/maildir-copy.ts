// Writes the Maildir form of a spooled message: delivery headers first, then the body with its
// CRLF line ends turned into LF (Maildir files use the local convention, as Postfix's local(8)
// and Dovecot do). The copy is fsync'd before this returns; a failed copy is removed.
import { open, unlink } from 'node:fs/promises';
import { PRIVATE_FILE_MODE, writeAll } from '../fsio/durable.js';

const CR = 0x0d;
const LF = 0x0a;
const CR_BYTE = Buffer.from([CR]);
const CHUNK_BYTES = 64 * 1024;

/** Where every converter puts its output: one buffer for the process, grown as needed. */
let scratch = Buffer.alloc(0);

/**
 * Converts CRLF to LF across chunks (a FileSink transform). Each chunk comes back as one piece, a
 * view of a buffer that every converter reuses, so the caller must take the bytes before anything
 * pushes again (FileSink copies them into its block at once). A byte loop: mail lines are short,
 * and one native call per line (indexOf, then a view or a copy) cost more than a pass over the
 * bytes. A CR at the end of a chunk is held until the next byte shows whether it starts a CRLF;
 * `end` returns a CR still held (a lone CR at the very end of the data is kept as it was).
 */
export class CrlfToLf {
  private heldCr = false;

  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    if (scratch.length < chunk.length + 1) scratch = Buffer.allocUnsafe(Math.max(chunk.length + 1, 64 * 1024));
    const out = scratch;
    let n = 0;
    if (this.heldCr && chunk[0] !== LF) out[n++] = CR;
    const last = chunk.length - 1;
    this.heldCr = chunk[last] === CR;
    const end = this.heldCr ? last : chunk.length;
    for (let i = 0; i < end; i++) {
      const byte = chunk[i];
      if (byte === CR && chunk[i + 1] === LF) continue;
      out[n++] = byte as number;
    }
    return [out.subarray(0, n)];
  }

  end(): Buffer[] {
    const rest = this.heldCr ? [CR_BYTE] : [];
    this.heldCr = false;
    return rest;
  }
}

/** Returns the header lines local delivery prepends (RFC 5322 3.6.7 trace fields). */
export function deliveryHeaders(reversePath: string, deliveredTo: string | undefined): string {
  const returnPath = `Return-Path: <${reversePath}>\n`;
  return deliveredTo === undefined ? returnPath : `${returnPath}Delivered-To: ${deliveredTo}\n`;
}

/**
 * Writes `headers` and the LF form of `sourcePath` to a new file at `targetPath`, fsyncs it
 * and returns its size in bytes. On any failure the target is removed and the error rethrown.
 */
export async function writeMaildirCopy(sourcePath: string, targetPath: string, headers: string): Promise<number> {
  const target = await open(targetPath, 'wx', PRIVATE_FILE_MODE);
  try {
    let size = (await target.write(headers)).bytesWritten;
    size += await copyAsLf(sourcePath, (buf) => writeAll(target, buf));
    await target.sync();
    await target.close();
    return size;
  } catch (err) {
    await target.close().catch(() => undefined);
    await unlink(targetPath).catch(() => undefined);
    throw err;
  }
}

async function copyAsLf(sourcePath: string, write: (buf: Buffer) => Promise<number>): Promise<number> {
  const source = await open(sourcePath, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const lf = new CrlfToLf();
    let size = 0;
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      size += await write(Buffer.concat(lf.push(buffer.subarray(0, bytesRead))));
    }
    return size + (await write(Buffer.concat(lf.end())));
  } finally {
    await source.close();
  }
}
