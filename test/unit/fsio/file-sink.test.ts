// FileSink: gathers chunks into block writes, applies its transform and prefix, and keeps a
// write failure for the owner instead of erroring the stream.
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../../src/fsio/file-sink.js';
import { CrlfToLf } from '../../../src/maildir/maildir-copy.js';
import { cleanTempDirs, tempDir } from '../queue/fixtures.js';

afterEach(cleanTempDirs);

describe('FileSink', () => {
  it('file sink writes the prefix and the transformed chunks, whatever their number, and counts the bytes', async () => {
    const path = join(await tempDir('sink'), 'f');
    const fd = openSync(path, 'wx');
    const sink = new FileSink(fd, new CrlfToLf(), Buffer.from('Return-Path: <>\n'));
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}\r\n`);
    for (const line of lines) sink.write(Buffer.from(line));
    sink.end(Buffer.from('last\r'));
    await finished(sink);
    closeSync(fd);
    const expected = `Return-Path: <>\n${lines.join('').replaceAll('\r\n', '\n')}last\r`;
    expect(await readFile(path, 'utf8')).toBe(expected);
    expect(sink.bytesWritten).toBe(Buffer.byteLength(expected));
    expect(sink.failure).toBeUndefined();
  });

  it('file sink converts chunks larger than its block, and CRLFs split at every block edge, like a plain replacement', async () => {
    const dir = await tempDir('sink');
    // Lines of 63 bytes and CRLF: over 200 KiB, CRs fall at many offsets relative to the 64 KiB block.
    const text = Array.from({ length: 3300 }, (_, i) => `${String(i).padStart(62, 'x')}.\r\n`).join('') + 'end\r';
    for (const size of [1, 7, 65_535, 65_536, 65_537, 100_000, 250_000]) {
      const path = join(dir, `f${size}`);
      const fd = openSync(path, 'wx');
      const sink = new FileSink(fd, new CrlfToLf());
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; at += size) sink.write(bytes.subarray(at, at + size));
      sink.end();
      await finished(sink);
      closeSync(fd);
      expect(await readFile(path, 'utf8')).toBe(text.replaceAll('\r\n', '\n'));
    }
  });

  it('file sink keeps a write failure and accepts the rest of the stream', async () => {
    const path = join(await tempDir('sink'), 'f');
    writeFileSync(path, '');
    const fd = openSync(path, 'r'); // every write fails: EBADF
    const sink = new FileSink(fd);
    for (let i = 0; i < 40; i++) sink.write(Buffer.alloc(4096, 0x61));
    sink.end();
    await finished(sink);
    closeSync(fd);
    expect(sink.failure).toMatchObject({ code: 'EBADF' });
  });
});
