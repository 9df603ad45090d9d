import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataDecoder } from '../../../src/smtp/data-decoder.js';
import { DotStuffer, dotStuff } from '../../../src/smtp/dot-stuffing.js';

function stuff(...pieces: string[]): string {
  const stuffer = new DotStuffer();
  const out = pieces.flatMap((p) => stuffer.push(Buffer.from(p, 'latin1')));
  return Buffer.concat([...out, ...stuffer.end()]).toString('latin1');
}

/** Splits a buffer at cut points taken modulo its length. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  return [...points, buf.length].map((p, i, all) => buf.subarray(i === 0 ? 0 : (all[i - 1] as number), p));
}

describe('DotStuffer', () => {
  it.each([
    ['', '.\r\n'],
    ['a\r\n', 'a\r\n.\r\n'],
    ['a', 'a\r\n.\r\n'],
    ['.\r\n', '..\r\n.\r\n'],
    ['.a\r\n..b\r\nc.d\r\n', '..a\r\n...b\r\nc.d\r\n.\r\n'],
    ['a\r\n.', 'a\r\n..\r\n.\r\n'],
    ['a\nb\n', 'a\r\nb\r\n.\r\n'],
    ['a\rb\r', 'a\r\nb\r\n.\r\n'],
    ['a\n.\nb', 'a\r\n..\r\nb\r\n.\r\n'],
    ['a\r.\r', 'a\r\n..\r\n.\r\n'],
    ['\r\r\n', '\r\n\r\n.\r\n'],
  ])('DotStuffer encodes %j as %j at every chunking', (body, wire) => {
    expect(stuff(body)).toBe(wire);
    expect(stuff(...body.split(''))).toBe(wire);
    for (let i = 1; i < body.length; i++) expect(stuff(body.slice(0, i), body.slice(i))).toBe(wire);
  });

  it('DotStuffer passes plain CRLF text through as subarrays of the input', () => {
    const chunk = Buffer.from('line one\r\nline two\r\n');
    const out = new DotStuffer().push(chunk);
    expect(out).toHaveLength(1);
    expect(out[0]?.buffer).toBe(chunk.buffer);
  });

  it('DotStuffer ignores empty chunks, even after a CR', () => {
    expect(stuff('a\r', '', '\nb')).toBe('a\r\nb\r\n.\r\n');
  });

  it('dotStuff streams a body with the terminator appended', async () => {
    const wire = await buffer(Readable.from([Buffer.from('.a\r\nb'), Buffer.from('\n')]).pipe(dotStuff()));
    expect(wire.toString()).toBe('..a\r\nb\r\n.\r\n');
  });
});

// Bodies of CRLF lines drawn from an alphabet heavy in dots, so stuffing is exercised.
const lineText = fc.array(fc.constantFrom('.', '.', 'a', ' ', 'é', '\t'), { maxLength: 12 }).map((cs) => cs.join(''));
const body = fc.array(lineText, { maxLength: 12 }).map((lines) => lines.map((l) => `${l}\r\n`).join(''));

describe('DotStuffer and DataDecoder together', () => {
  it('DataDecoder recovers any CRLF body that DotStuffer encoded, for any chunking', () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (text, cutsIn, cutsOut) => {
        const stuffer = new DotStuffer();
        const original = Buffer.from(text);
        const wire = Buffer.concat([...split(original, cutsIn).flatMap((p) => stuffer.push(p)), ...stuffer.end()]);
        const decoder = new DataDecoder({ maxMessageBytes: 1 << 20, bareLinefeed: 'reject', maxLineBytes: 1000 });
        const out: Buffer[] = [];
        let doneAt: number | undefined;
        let seen = 0;
        for (const piece of split(Buffer.concat([wire, Buffer.from('QUIT\r\n')]), cutsOut)) {
          const result = decoder.push(piece);
          out.push(...result.body);
          if (result.done && doneAt === undefined) doneAt = seen + piece.length - (result.rest?.length ?? 0);
          seen += piece.length;
        }
        expect(doneAt).toBe(wire.length);
        expect(decoder.problem).toBeUndefined();
        expect(Buffer.concat(out).equals(original)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('DotStuffer never sends a bare CR or LF, so the strict DataDecoder gets back the CRLF-normalized body', () => {
    const anyBytes = fc.array(fc.constantFrom(0x0d, 0x0a, 0x2e, 0x61), { maxLength: 40 });
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const stuffer = new DotStuffer();
        const wire = Buffer.concat([...stuffer.push(Buffer.from(bytes)), ...stuffer.end()]);
        const decoder = new DataDecoder({ maxMessageBytes: 1 << 20, bareLinefeed: 'reject', maxLineBytes: 1000 });
        const result = decoder.push(wire);
        expect(result.done).toBe(true);
        expect(result.rest?.length).toBe(0);
        expect(decoder.problem).toBeUndefined();
        const expected = Buffer.from(bytes).toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
        const withEnd = expected === '' || expected.endsWith('\r\n') ? expected : `${expected}\r\n`;
        expect(Buffer.concat(result.body).toString('latin1')).toBe(withEnd);
      }),
      { numRuns: 2000 },
    );
  });
});
