import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkDecoder, DataDecoder, type DecoderOptions } from '../../../src/smtp/data-decoder.js';

const BIG = 1 << 30;
const reject: DecoderOptions = { maxMessageBytes: BIG, bareLinefeed: 'reject', maxLineBytes: 1000 };
const normalize: DecoderOptions = { ...reject, bareLinefeed: 'normalize' };

/** Feeds the input in the given pieces; returns the body, the rest and the decoder. */
function decode(opts: DecoderOptions, ...pieces: string[]) {
  const decoder = new DataDecoder(opts);
  const body: Buffer[] = [];
  let rest: string | undefined;
  for (const piece of pieces) {
    const result = decoder.push(Buffer.from(piece, 'latin1'));
    body.push(...result.body);
    if (result.done) {
      rest = (rest ?? '') + (result.rest?.toString('latin1') ?? '');
    } else {
      expect(result.rest).toBeUndefined();
    }
  }
  return { body: Buffer.concat(body).toString('latin1'), rest, decoder };
}

/** Splits a string at every position into two pieces, and byte by byte. */
function chunkings(input: string): string[][] {
  const out: string[][] = [[input], input.split('')];
  for (let i = 1; i < input.length; i++) out.push([input.slice(0, i), input.slice(i)]);
  return out;
}

describe('DataDecoder', () => {
  it.each([
    ['.\r\n', ''],
    ['\r\n.\r\n', '\r\n'],
    ['a\r\n.\r\n', 'a\r\n'],
    ['a\r\nb\r\n.\r\n', 'a\r\nb\r\n'],
    ['..\r\n.\r\n', '.\r\n'],
    ['..a\r\n...b\r\n.\r\n', '.a\r\n..b\r\n'],
    ['a.b\r\n .\r\n.\r\n', 'a.b\r\n .\r\n'],
    ['a\r\n.x\r\n.\r\n', 'a\r\nx\r\n'],
    ['x\r\n.\r\n', 'x\r\n'],
  ])('DataDecoder decodes %j into %j at every chunking', (input, expected) => {
    for (const pieces of chunkings(input + 'QUIT\r\n')) {
      const { body, rest, decoder } = decode(reject, ...pieces);
      expect(body).toBe(expected);
      expect(rest).toBe('QUIT\r\n');
      expect(decoder.problem).toBeUndefined();
      expect(decoder.bytes).toBe(expected.length);
    }
  });

  it('DataDecoder passes a chunk without special bytes through as a subarray', () => {
    const decoder = new DataDecoder(reject);
    decoder.push(Buffer.from('first line\r\n'));
    const chunk = Buffer.from('x'.repeat(500));
    const { body } = decoder.push(chunk);
    expect(body).toHaveLength(1);
    expect(body[0]?.buffer).toBe(chunk.buffer);
  });

  it('DataDecoder passes plain CRLF lines through as one subarray per chunk', () => {
    const decoder = new DataDecoder(reject);
    const chunk = Buffer.from('line one\r\nline two\r\nline three\r\n');
    expect(decoder.push(chunk).body).toHaveLength(1);
  });

  it('DataDecoder decodes 32 MiB of text in 64 KiB chunks as one buffer per chunk', () => {
    const decoder = new DataDecoder(reject);
    const chunk = Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(840));
    let pieces = 0;
    for (let n = 0; n < 32 << 20; n += chunk.length) pieces += decoder.push(chunk).body.length;
    const end = decoder.push(Buffer.from('.\r\n'));
    expect(end.done).toBe(true);
    expect(pieces).toBe(Math.ceil((32 << 20) / chunk.length));
    expect(decoder.problem).toBeUndefined();
  });

  it('DataDecoder emits 1 MB of ".." lines as at most one buffer per push', () => {
    const input = Buffer.from('..\r\n'.repeat(1 << 18) + '.\r\n');
    for (const chunkBytes of [input.length, 64 << 10, 1000]) {
      const decoder = new DataDecoder(reject);
      const pushes = Math.ceil(input.length / chunkBytes);
      const body: Buffer[] = [];
      for (let i = 0; i < input.length; i += chunkBytes) body.push(...decoder.push(input.subarray(i, i + chunkBytes)).body);
      expect(body.length).toBeLessThanOrEqual(pushes);
      expect(Buffer.concat(body).equals(Buffer.from('.\r\n'.repeat(1 << 18)))).toBe(true);
      expect(decoder.problem).toBeUndefined();
    }
  });

  it('DataDecoder in normalize mode emits a chunk of bare LFs doubled, as one buffer', () => {
    const decoder = new DataDecoder(normalize);
    const { body } = decoder.push(Buffer.from('a\n.b\n'.repeat(5000)));
    expect(body).toHaveLength(1);
    expect(body[0]?.toString('latin1')).toBe('a\r\nb\r\n'.repeat(5000));
  });

  it('DataDecoder returns the remaining bytes of later pushes once done', () => {
    const decoder = new DataDecoder(reject);
    expect(decoder.push(Buffer.from('.\r\n')).rest?.length).toBe(0);
    expect(decoder.push(Buffer.from('NOOP\r\n'))).toEqual({ body: [], done: true, rest: Buffer.from('NOOP\r\n') });
  });

  // Each of these would end the message at the dot on a lenient server (SMTP smuggling).
  const smuggling = ['a\n.\nb', 'a\r.\rb', 'a\n.\r\nb', 'a\r\n.\nb', 'a\r\n.\rb', 'a\r.\r\nb', '\n.\r\nb', 'a\r\n.\r.\r\nb'];

  it.each(smuggling)('DataDecoder in reject mode does not end at %j and reports bare-lf', (inner) => {
    for (const pieces of chunkings(inner + '\r\n.\r\nMAIL')) {
      const { body, rest, decoder } = decode(reject, ...pieces);
      expect(rest).toBe('MAIL');
      expect(decoder.problem).toBe('bare-lf');
      expect(body.length).toBeLessThan(inner.length);
    }
  });

  it.each([
    ['a\n.\nb', 'a\r\n\r\nb\r\n'],
    ['a\r.\rb', 'a\r\n\r\nb\r\n'],
    ['a\n.\r\nb', 'a\r\n\r\nb\r\n'],
    ['a\r\n.\nb', 'a\r\n\r\nb\r\n'],
    ['a\r\n.\rb', 'a\r\n\r\nb\r\n'],
    ['a\r.\r\nb', 'a\r\n\r\nb\r\n'],
    ['\n.\r\nb', '\r\n\r\nb\r\n'],
    ['a\r\n.\r.\r\nb', 'a\r\n\r\n\r\nb\r\n'],
    ['a\nb\rc\r\r\nd', 'a\r\nb\r\nc\r\n\r\nd\r\n'],
    ['a\n..b', 'a\r\n.b\r\n'],
  ])('DataDecoder in normalize mode does not end at %j and writes CRLF lines', (inner, expected) => {
    for (const pieces of chunkings(inner + '\r\n.\r\nMAIL')) {
      const { body, rest, decoder } = decode(normalize, ...pieces);
      expect(body).toBe(expected);
      expect(rest).toBe('MAIL');
      expect(decoder.problem).toBeUndefined();
    }
  });

  it.each(['.\n', '.\r', '.\rx', '\n'])('DataDecoder does not take %j at the start of data as the end', (start) => {
    const { rest, decoder } = decode(normalize, start + '\r\n.\r\n');
    expect(rest).toBe('');
    expect(decoder.problem).toBeUndefined();
  });

  it('DataDecoder finds a lone dot inside a long line is just text', () => {
    const line = `${'x'.repeat(300)}.${'y'.repeat(300)}.\r\n`;
    expect(decode(reject, line, '.\r\n').body).toBe(line);
  });

  it('DataDecoder keeps reading after too-big and reports it at the terminator', () => {
    const { body, rest, decoder } = decode({ ...reject, maxMessageBytes: 10 }, 'abcdef\r\n', 'ghijkl\r\n', '.\r\nQUIT\r\n');
    expect(decoder.problem).toBe('too-big');
    expect(body).toBe('abcdef\r\n');
    expect(rest).toBe('QUIT\r\n');
    expect(decoder.bytes).toBe(16);
  });

  it('DataDecoder accepts a message of exactly maxMessageBytes', () => {
    expect(decode({ ...reject, maxMessageBytes: 8 }, 'abcdef\r\n.\r\n').decoder.problem).toBeUndefined();
  });

  it('DataDecoder counts the size after unstuffing', () => {
    expect(decode({ ...reject, maxMessageBytes: 8 }, '.abcdef\r\n.\r\n').decoder.problem).toBeUndefined();
  });

  it('DataDecoder accepts a line of exactly 1000 octets with CRLF, not counting a stuffing dot', () => {
    const line = 'x'.repeat(998);
    for (const input of [`${line}\r\n.\r\n`, `.${line}\r\n.\r\n`]) {
      expect(decode(reject, input).decoder.problem).toBeUndefined();
    }
  });

  it('DataDecoder reports line-too-long for 1001 octets and still finds the terminator', () => {
    const { rest, decoder, body } = decode(reject, 'ok\r\n', `${'x'.repeat(999)}\r\nmore\r\n.\r\nQUIT`);
    expect(decoder.problem).toBe('line-too-long');
    expect(rest).toBe('QUIT');
    expect(body).toBe('ok\r\n');
  });

  it('DataDecoder counts a line split across many chunks toward the line limit', () => {
    expect(decode(reject, ...Array.from({ length: 11 }, () => 'x'.repeat(100)), '\r\n.\r\n').decoder.problem).toBe('line-too-long');
  });

  it('DataDecoder lifts the line limit with Infinity', () => {
    expect(decode({ ...reject, maxLineBytes: Infinity }, 'x'.repeat(100_000), '\r\n.\r\n').decoder.problem).toBeUndefined();
  });

  it('DataDecoder in normalize mode restarts the line count at a bare LF', () => {
    const lines = Array.from({ length: 10 }, () => 'x'.repeat(500)).join('\n');
    expect(decode(normalize, lines, '\r\n.\r\n').decoder.problem).toBeUndefined();
  });

  it('DataDecoder reports too-big before line-too-long when the size runs out first, at every chunking', () => {
    // The body exceeds 2 octets at "c", the line exceeds 4 octets of text at "e".
    for (const pieces of chunkings('abcdefgh\r\n.\r\n')) {
      expect(decode({ ...reject, maxMessageBytes: 2, maxLineBytes: 6 }, ...pieces).decoder.problem).toBe('too-big');
      expect(decode({ ...reject, maxMessageBytes: 5, maxLineBytes: 6 }, ...pieces).decoder.problem).toBe('line-too-long');
    }
  });

  it('DataDecoder keeps the first problem', () => {
    const { decoder } = decode({ ...reject, maxMessageBytes: 4 }, 'a\nbcdefgh\r\n.\r\n');
    expect(decoder.problem).toBe('bare-lf');
  });
});

/** A byte-at-a-time model of the rules, over the whole input at once. */
function model(input: Buffer, mode: 'reject' | 'normalize') {
  const out: number[] = [];
  let isLineStart = true;
  let isRealStart = true;
  let hasBare = false;
  for (let i = 0; i < input.length; ) {
    if (isLineStart) {
      isLineStart = false;
      if (input[i] === 0x2e) {
        if (isRealStart && input[i + 1] === 0x0d && input[i + 2] === 0x0a) {
          return { body: Buffer.from(out), end: i + 3, hasBare };
        }
        i++;
        continue;
      }
    }
    const c = input[i] as number;
    if (c === 0x0d && input[i + 1] === 0x0a) {
      out.push(0x0d, 0x0a);
      i += 2;
      isLineStart = isRealStart = true;
    } else if (c === 0x0d || c === 0x0a) {
      hasBare = true;
      if (mode === 'normalize') out.push(0x0d, 0x0a);
      i++;
      isLineStart = true;
      isRealStart = false;
    } else {
      out.push(c);
      i++;
    }
  }
  return { body: Buffer.from(out), end: undefined, hasBare };
}

const wireByte = fc.constantFrom(0x0d, 0x0a, 0x2e, 0x61, 0x0d, 0x0a, 0x2e, 0x20, 0xff);
const wire = fc.uint8Array({ minLength: 0, maxLength: 60 }).chain((len) =>
  fc.array(wireByte, { minLength: 0, maxLength: 40 + len.length }),
);

/** Splits a buffer at the given sorted, deduplicated cut points. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of [...points, buf.length]) {
    pieces.push(buf.subarray(from, p));
    from = p;
  }
  return pieces;
}

function run(opts: DecoderOptions, pieces: Buffer[]) {
  const decoder = new DataDecoder(opts);
  const body: Buffer[] = [];
  let consumed = 0;
  let end: number | undefined;
  for (const piece of pieces) {
    const result = decoder.push(piece);
    body.push(...result.body);
    if (result.done && end === undefined) end = consumed + piece.length - (result.rest?.length ?? 0);
    consumed += piece.length;
  }
  return { body: Buffer.concat(body), end, problem: decoder.problem };
}

describe('DataDecoder properties', () => {
  it.each(['reject', 'normalize'] as const)('DataDecoder in %s mode matches the byte-at-a-time model for any chunking', (mode) => {
    fc.assert(
      fc.property(wire, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const input = Buffer.from([...bytes, 0x0d, 0x0a, 0x2e, 0x0d, 0x0a, 0x41]);
        const expected = model(input, mode);
        const got = run({ ...reject, bareLinefeed: mode }, split(input, cuts));
        expect(got.end).toBe(expected.end);
        expect(got.problem).toBe(mode === 'reject' && expected.hasBare ? 'bare-lf' : undefined);
        if (!got.problem) expect(got.body.toString('latin1')).toBe(expected.body.toString('latin1'));
      }),
      { numRuns: 3000 },
    );
  });

  it('DataDecoder never ends before the first real CRLF.CRLF, whatever bare CR/LF precede it', () => {
    fc.assert(
      fc.property(wire, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const text = Buffer.from(bytes).toString('latin1');
        // The start of data counts as a line start, hence the leading CRLF.
        fc.pre(('\r\n' + text + '\r\n.\r\n').indexOf('\r\n.\r\n') === text.length + 2);
        const input = Buffer.from(text + '\r\n.\r\nTAIL', 'latin1');
        for (const opts of [reject, normalize]) {
          expect(run(opts, split(input, cuts)).end).toBe(input.length - 4);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

/** Decodes the pieces with a fresh DataDecoder; how many buffers each push gave back, too. */
function runCounted(opts: DecoderOptions, pieces: Buffer[]) {
  const decoder = new DataDecoder(opts);
  const body: Buffer[] = [];
  let rest: Buffer | undefined;
  let mostPerPush = 0;
  for (const piece of pieces) {
    const result = decoder.push(piece);
    body.push(...result.body);
    mostPerPush = Math.max(mostPerPush, result.body.length);
    if (result.done) rest = Buffer.concat([rest ?? Buffer.alloc(0), result.rest as Buffer]);
  }
  return { body: Buffer.concat(body).toString('latin1'), rest: rest?.toString('latin1'), problem: decoder.problem, bytes: decoder.bytes, mostPerPush };
}

describe('DataDecoder and ChunkDecoder chunking', () => {
  // Small limits, so that too-big and line-too-long are found at different places of a piece.
  const limits = fc.record({
    bareLinefeed: fc.constantFrom('reject' as const, 'normalize' as const),
    maxMessageBytes: fc.integer({ min: 0, max: 120 }),
    maxLineBytes: fc.integer({ min: 3, max: 40 }),
  });

  it('DataDecoder decodes the same however the input is split, one buffer per push at most', () => {
    fc.assert(
      fc.property(wire, fc.array(fc.nat(), { maxLength: 12 }), limits, (bytes, cuts, opts) => {
        const input = Buffer.from([...bytes, 0x0d, 0x0a, 0x2e, 0x0d, 0x0a, 0x41]);
        const whole = runCounted(opts, [input]);
        const pieces = runCounted(opts, split(input, cuts));
        expect(pieces.problem).toBe(whole.problem);
        expect(pieces.bytes).toBe(whole.bytes);
        expect(pieces.rest).toBe(whole.rest);
        if (!whole.problem) expect(pieces.body).toBe(whole.body);
        expect(Math.max(whole.mostPerPush, pieces.mostPerPush)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 3000 },
    );
  });

  it('ChunkDecoder decodes the same however the BDAT bytes are split, one buffer per push at most', () => {
    const bdat = (opts: DecoderOptions, pieces: Buffer[]) => {
      const decoder = new ChunkDecoder(opts);
      const body = pieces.map((piece) => decoder.push(piece));
      const end = decoder.end();
      return { body: Buffer.concat([...body.flat(), ...end.body]).toString('latin1'), problem: end.problem, bytes: decoder.bytes, mostPerPush: Math.max(0, ...body.map((b) => b.length)) };
    };
    fc.assert(
      fc.property(wire, fc.array(fc.nat(), { maxLength: 12 }), limits, (bytes, cuts, opts) => {
        const input = Buffer.from(bytes);
        const whole = bdat(opts, [input]);
        const pieces = bdat(opts, split(input, cuts));
        expect(pieces.problem).toBe(whole.problem);
        expect(pieces.bytes).toBe(whole.bytes);
        if (!whole.problem) expect(pieces.body).toBe(whole.body);
        expect(Math.max(whole.mostPerPush, pieces.mostPerPush)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('ChunkDecoder', () => {
  const chunked = (opts: DecoderOptions, ...pieces: string[]) => {
    const decoder = new ChunkDecoder(opts);
    const body: Buffer[] = [];
    for (const piece of pieces) {
      decoder.startChunk();
      body.push(...decoder.push(Buffer.from(piece, 'latin1')));
    }
    const end = decoder.end();
    return { body: Buffer.concat([...body, ...end.body]).toString('latin1'), problem: end.problem, decoder };
  };

  it('ChunkDecoder passes dots and terminators through untouched', () => {
    expect(chunked(reject, '.\r\n..a\r\n', '.\r\n')).toEqual(expect.objectContaining({ body: '.\r\n..a\r\n.\r\n', problem: undefined }));
  });

  it('ChunkDecoder joins a CRLF split across two chunks', () => {
    expect(chunked(reject, 'a\r', '\nb\r\n').problem).toBeUndefined();
  });

  it.each([['a\nb'], ['a\rb'], ['a\r'], ['a\r', 'b']])('ChunkDecoder in reject mode reports bare-lf in %j', (...pieces) => {
    expect(chunked(reject, ...pieces).problem).toBe('bare-lf');
  });

  it.each([
    [['a\nb\r\n'], 'a\r\nb\r\n'],
    [['a\rb\r\n'], 'a\r\nb\r\n'],
    [['a\r'], 'a\r\n'],
    [['a\r', 'b\r\n'], 'a\r\nb\r\n'],
    [['a\r', '\r\n'], 'a\r\n\r\n'],
  ])('ChunkDecoder in normalize mode turns %j into CRLF lines', (pieces, expected) => {
    expect(chunked(normalize, ...pieces)).toEqual(expect.objectContaining({ body: expected, problem: undefined }));
  });

  it('ChunkDecoder reports too-big past the limit', () => {
    const { problem, decoder } = chunked({ ...reject, maxMessageBytes: 5 }, 'abc', 'def');
    expect(problem).toBe('too-big');
    expect(decoder.bytes).toBe(6);
  });

  it('ChunkDecoder applies the line limit across chunks', () => {
    expect(chunked({ ...reject, maxLineBytes: 10 }, 'abcde', 'fghij\r\n').problem).toBe('line-too-long');
  });

  it('ChunkDecoder finish returns the problem', () => {
    const decoder = new ChunkDecoder(reject);
    decoder.push(Buffer.from('a\nb'));
    expect(decoder.finish()).toBe('bare-lf');
  });
});
