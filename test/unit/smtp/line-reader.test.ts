import { describe, expect, it } from 'vitest';
import { type CommandLineItem, CommandLineReader, decodeCommandBytes, hasInvalidUtf8 } from '../../../src/smtp/line-reader.js';

/** Pushes each chunk and drains all items after each push. */
function readAll(reader: CommandLineReader, ...chunks: string[]): CommandLineItem[] {
  const items: CommandLineItem[] = [];
  for (const chunk of chunks) {
    reader.push(Buffer.from(chunk, 'utf8'));
    for (let item = reader.next(); item; item = reader.next()) items.push(item);
  }
  return items;
}
const line = (text: string): CommandLineItem => ({ kind: 'line', line: text });

describe('CommandLineReader', () => {
  it('CommandLineReader splits lines at CRLF', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    expect(readAll(reader, 'EHLO a\r\nMAIL FROM:<>\r\n')).toEqual([line('EHLO a'), line('MAIL FROM:<>')]);
  });

  it('CommandLineReader joins a line split across chunks, including between CR and LF', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    expect(readAll(reader, 'EH', 'LO a\r', '\nQU', 'IT\r\n')).toEqual([line('EHLO a'), line('QUIT')]);
  });

  it('CommandLineReader yields nothing until the CRLF arrives', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    expect(readAll(reader, 'NOOP')).toEqual([]);
    expect(reader.hasBufferedBytes).toBe(true);
  });

  it('CommandLineReader reports a line ending in a bare LF and carries on', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    expect(readAll(reader, 'NOOP\nQUIT\r\n\n')).toEqual([{ kind: 'bare-lf' }, line('QUIT'), { kind: 'bare-lf' }]);
  });

  it('CommandLineReader keeps a bare CR inside the line text', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    expect(readAll(reader, 'NO\rOP\r\r\n')).toEqual([line('NO\rOP\r')]);
  });

  it('CommandLineReader decodes UTF-8 split across chunks', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    const bytes = Buffer.from('RCPT TO:<josé@example.org>\r\n');
    const cut = bytes.indexOf(0xa9); // inside the two-byte é
    reader.push(bytes.subarray(0, cut));
    expect(reader.next()).toBeUndefined();
    reader.push(bytes.subarray(cut));
    expect(reader.next()).toEqual(line('RCPT TO:<josé@example.org>'));
  });

  it('CommandLineReader keeps the bytes of invalid UTF-8 as lone surrogates', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    reader.push(Buffer.from([...Buffer.from('HELO caf'), 0xe9, 0x0d, 0x0a, ...Buffer.from('NOOP \uFFFD\r\n')]));
    expect(reader.next()).toEqual(line('HELO caf\udce9'));
    expect(reader.next()).toEqual(line('NOOP \uFFFD'));
  });

  it('CommandLineReader accepts a line of exactly maxLineBytes including CRLF', () => {
    const reader = new CommandLineReader({ maxLineBytes: 16 });
    expect(readAll(reader, `${'a'.repeat(14)}\r\n`)).toEqual([line('a'.repeat(14))]);
  });

  it('CommandLineReader accepts a maximal line whose CR arrives without its LF', () => {
    const reader = new CommandLineReader({ maxLineBytes: 16 });
    expect(readAll(reader, `${'a'.repeat(14)}\r`, '\n')).toEqual([line('a'.repeat(14))]);
  });

  it('CommandLineReader reports a complete line one octet too long', () => {
    const reader = new CommandLineReader({ maxLineBytes: 16 });
    expect(readAll(reader, `${'a'.repeat(15)}\r\nQUIT\r\n`)).toEqual([{ kind: 'too-long' }, line('QUIT')]);
  });

  it('CommandLineReader reports an endless line once and discards it to the next LF', () => {
    const reader = new CommandLineReader({ maxLineBytes: 16 });
    const items = readAll(reader, 'a'.repeat(10), 'a'.repeat(10), 'a'.repeat(1000), 'a'.repeat(1000), 'b\r\nQUIT\r\n');
    expect(items).toEqual([{ kind: 'too-long' }, line('QUIT')]);
  });

  it('CommandLineReader keeps memory bounded while discarding an endless line', () => {
    const reader = new CommandLineReader({ maxLineBytes: 16 });
    readAll(reader, 'x'.repeat(100));
    for (let i = 0; i < 100; i++) readAll(reader, 'x'.repeat(10_000));
    expect(reader.takeRest().length).toBe(0);
  });

  it('CommandLineReader resumes after a discarded line whose LF starts the next chunk', () => {
    const reader = new CommandLineReader({ maxLineBytes: 16 });
    expect(readAll(reader, 'a'.repeat(40), '\nNOOP\r\n')).toEqual([{ kind: 'too-long' }, line('NOOP')]);
  });

  it('CommandLineReader hands back the bytes after DATA with takeRest', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    reader.push(Buffer.from('RCPT TO:<a@b.c>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n'));
    expect(reader.next()).toEqual(line('RCPT TO:<a@b.c>'));
    expect(reader.next()).toEqual(line('DATA'));
    expect(reader.takeRest().toString()).toBe('Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n');
    expect(reader.next()).toBeUndefined();
    expect(reader.hasBufferedBytes).toBe(false);
    expect(readAll(reader, 'QUIT\r\n')).toEqual([line('QUIT')]);
  });

  it('CommandLineReader returns an empty buffer from takeRest when nothing is pending', () => {
    const reader = new CommandLineReader({ maxLineBytes: 512 });
    readAll(reader, 'DATA\r\n');
    expect(reader.takeRest().length).toBe(0);
  });

  it('CommandLineReader refuses a maxLineBytes too small to hold CRLF', () => {
    expect(() => new CommandLineReader({ maxLineBytes: 2 })).toThrow(RangeError);
  });
});

describe('decodeCommandBytes', () => {
  const hex = (text: string) => Buffer.from(text.replaceAll(' ', ''), 'hex');

  it.each([
    ['ASCII', '48454c4f2061', 'HELO a'],
    ['two, three and four byte sequences', 'c3a9 e282ac f09f9880', 'é€😀'],
    ['the largest code point', 'f48fbfbf', '\u{10FFFF}'],
  ])('decodeCommandBytes decodes %s as UTF-8', (_what, bytes, text) => {
    expect(decodeCommandBytes(hex(bytes))).toBe(text);
    expect(hasInvalidUtf8(text)).toBe(false);
  });

  it.each([
    ['a lone continuation byte', '61 80 62', 'a\udc80b'],
    ['a lead byte before ASCII', 'c3 41', '\udcc3A'],
    ['a truncated three-byte sequence at the end', '61 e2 82', 'a\udce2\udc82'],
    ['an overlong slash', 'c0 af', '\udcc0\udcaf'],
    ['an overlong three-byte form', 'e0 80 af', '\udce0\udc80\udcaf'],
    ['an encoded surrogate', 'ed a0 80', '\udced\udca0\udc80'],
    ['a code point past U+10FFFF', 'f4 90 80 80', '\udcf4\udc90\udc80\udc80'],
    ['0xFF between valid sequences', 'c3a9 ff c3a9', 'é\udcffé'],
  ])('decodeCommandBytes keeps each byte of %s as U+DCxx', (_what, bytes, text) => {
    expect(decodeCommandBytes(hex(bytes))).toBe(text);
    expect(hasInvalidUtf8(decodeCommandBytes(hex(bytes)))).toBe(true);
  });

  it('decodeCommandBytes loses no byte: each U+DCxx maps back to its byte', () => {
    const bytes = hex('4e4f4f5020 c3a9 ff e282 41 f09f9880 80');
    const back = Buffer.concat(
      [...decodeCommandBytes(bytes)].map((c) => {
        const code = c.codePointAt(0) as number;
        return code >= 0xdc80 && code <= 0xdcff ? Buffer.from([code - 0xdc00]) : Buffer.from(c);
      }),
    );
    expect(back.equals(bytes)).toBe(true);
  });
});
