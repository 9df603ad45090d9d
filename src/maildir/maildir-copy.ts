// Writes the Maildir form of a spooled message: delivery headers first, then the body with its
// CRLF line ends turned into LF (Maildir files use the local convention, as Postfix's local(8)
// and Dovecot do). The copy is fsync'd before this returns; a failed copy is removed.
import { open, unlink } from 'node:fs/promises';
import { PRIVATE_FILE_MODE, writeAll } from '../fsio/durable.js';

const CR = 0x0d;
const LF = 0x0a;
const CHUNK_BYTES = 64 * 1024;

/** Converts CRLF to LF in one chunk; `carry` is a CR held back from the previous chunk. */
export function crlfToLf(chunk: Buffer, carry: boolean): { readonly out: Buffer; readonly carry: boolean } {
  const input = carry ? Buffer.concat([Buffer.from([CR]), chunk]) : chunk;
  // A CR at the very end may start a CRLF split across chunks: hold it until we see the next byte.
  const holdsCr = input.length > 0 && input[input.length - 1] === CR;
  const end = holdsCr ? input.length - 1 : input.length;
  const out = Buffer.allocUnsafe(end);
  let n = 0;
  for (let i = 0; i < end; i++) {
    const byte = input[i] as number;
    if (byte === CR && input[i + 1] === LF) continue;
    out[n++] = byte;
  }
  return { out: out.subarray(0, n), carry: holdsCr };
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
    let carry = false;
    let size = 0;
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const converted = crlfToLf(buffer.subarray(0, bytesRead), carry);
      carry = converted.carry;
      size += await write(converted.out);
    }
    // A lone CR at the very end of the data is kept as it was.
    if (carry) size += await write(Buffer.from([CR]));
    return size;
  } finally {
    await source.close();
  }
}
