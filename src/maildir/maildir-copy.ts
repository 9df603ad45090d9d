// Writes the Maildir form of a spooled message: delivery headers first, then the body with its
// CRLF line ends turned into LF (Maildir files use the local convention, as Postfix's local(8)
// and Dovecot do). The copy is fsync'd before this returns; a failed copy is removed.
import { open, unlink } from 'node:fs/promises';
import { PRIVATE_FILE_MODE, writeAll } from '../fsio/durable.js';

const CR = 0x0d;
const CR_BYTE = Buffer.from([CR]);
const CRLF = Buffer.from('\r\n');
const CHUNK_BYTES = 64 * 1024;

/**
 * Converts CRLF to LF across chunks (a FileSink transform). A CR at the end of a chunk is held
 * until the next byte shows whether it starts a CRLF; `end` returns a CR still held (a lone CR
 * at the very end of the data is kept as it was). The CRLFs are found with indexOf, so a line
 * costs a native search and one copy rather than a loop over its bytes.
 */
export class CrlfToLf {
  private heldCr = false;

  push(chunk: Buffer): Buffer {
    const input = this.heldCr ? Buffer.concat([CR_BYTE, chunk]) : chunk;
    this.heldCr = input.length > 0 && input[input.length - 1] === CR;
    const end = this.heldCr ? input.length - 1 : input.length;
    let crlf = input.indexOf(CRLF);
    if (crlf < 0 || crlf >= end) return input.subarray(0, end);
    const out = Buffer.allocUnsafe(end);
    let n = 0;
    let from = 0;
    while (crlf >= 0 && crlf < end) {
      n += input.copy(out, n, from, crlf);
      from = crlf + 1; // keep the LF, drop the CR
      crlf = input.indexOf(CRLF, from);
    }
    n += input.copy(out, n, from, end);
    return out.subarray(0, n);
  }

  end(): Buffer {
    const rest = this.heldCr ? CR_BYTE : Buffer.alloc(0);
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
      size += await write(lf.push(buffer.subarray(0, bytesRead)));
    }
    return size + (await write(lf.end()));
  } finally {
    await source.close();
  }
}
