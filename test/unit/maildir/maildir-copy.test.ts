import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CrlfToLf, deliveryHeaders, writeMaildirCopy } from '../../../src/maildir/maildir-copy.js';
import { cleanTempDirs, tempDir } from '../queue/fixtures.js';

afterEach(cleanTempDirs);

function convertInChunks(text: string, sizes: number[]): string {
  const input = Buffer.from(text);
  const lf = new CrlfToLf();
  let out = '';
  let pos = 0;
  for (const size of [...sizes, input.length]) {
    out += lf.push(input.subarray(pos, pos + size)).toString();
    pos += size;
    if (pos >= input.length) break;
  }
  return out + lf.end().toString();
}

describe('maildir-copy', () => {
  it('maildir-copy turns CRLF into LF and keeps a lone CR', () => {
    expect(convertInChunks('a\r\nb\rc\r\n', [])).toBe('a\nb\rc\n');
  });

  it('maildir-copy converts like a plain CRLF replacement whatever the chunking (random texts)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', '\r', '\n', '\r\n', '.', 'xyz'), { maxLength: 60 }), fc.array(fc.nat(8), { maxLength: 10 }), (parts, sizes) => {
        const text = parts.join('');
        expect(convertInChunks(text, sizes)).toBe(text.replaceAll('\r\n', '\n'));
      }),
    );
  });

  it('maildir-copy handles a CRLF split across chunks', () => {
    for (let split = 0; split <= 6; split++) expect(convertInChunks('ab\r\ncd\r\n', [split])).toBe('ab\ncd\n');
    expect(convertInChunks('x\r', [1])).toBe('x\r');
  });

  it('maildir-copy builds Return-Path and, for one recipient, Delivered-To', () => {
    expect(deliveryHeaders('', undefined)).toBe('Return-Path: <>\n');
    expect(deliveryHeaders('a@b', 'c@d')).toBe('Return-Path: <a@b>\nDelivered-To: c@d\n');
  });

  it('maildir-copy writes headers then the LF body and returns the exact size', async () => {
    const dir = await tempDir('copy');
    const body = 'Subject: x\r\n\r\n' + 'line\r\n'.repeat(30_000);
    await writeFile(join(dir, 'src'), body);
    const size = await writeMaildirCopy(join(dir, 'src'), join(dir, 'dst'), 'Return-Path: <a@b>\n');
    const written = await readFile(join(dir, 'dst'));
    expect(written.length).toBe(size);
    expect(written.toString()).toBe('Return-Path: <a@b>\n' + body.replaceAll('\r\n', '\n'));
  });
});
