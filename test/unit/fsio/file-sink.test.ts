// FileSink: gathers chunks into block writes, applies its transform and prefix, and keeps a
// write failure for the owner instead of erroring the stream.
import { open, readFile } from 'node:fs/promises';
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
    const handle = await open(path, 'wx');
    const sink = new FileSink(handle, new CrlfToLf(), Buffer.from('Return-Path: <>\n'));
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}\r\n`);
    for (const line of lines) sink.write(Buffer.from(line));
    sink.end(Buffer.from('last\r'));
    await finished(sink);
    await handle.close();
    const expected = `Return-Path: <>\n${lines.join('').replaceAll('\r\n', '\n')}last\r`;
    expect(await readFile(path, 'utf8')).toBe(expected);
    expect(sink.bytesWritten).toBe(Buffer.byteLength(expected));
    expect(sink.failure).toBeUndefined();
  });

  it('file sink keeps a write failure and accepts the rest of the stream', async () => {
    const path = join(await tempDir('sink'), 'f');
    const handle = await open(path, 'wx');
    await handle.close(); // every write fails: EBADF
    const sink = new FileSink(handle);
    for (let i = 0; i < 40; i++) sink.write(Buffer.alloc(4096, 0x61));
    sink.end();
    await finished(sink);
    expect(sink.failure).toMatchObject({ code: 'EBADF' });
  });
});
