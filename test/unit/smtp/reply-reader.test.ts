import { describe, expect, it } from 'vitest';
import { ReplyReader } from '../../../src/smtp/reply-reader.js';

const read = (...chunks: string[]) => {
  const r = new ReplyReader();
  return chunks.flatMap((c) => r.push(Buffer.from(c, 'latin1')));
};

describe('reply reader', () => {
  it('reply reader reads a multi-line EHLO reply split anywhere', () => {
    expect(read('250-mx.test Hello\r\n250-PIPE', 'LINING\r\n250 SIZE 1000\r\n')).toEqual([
      { kind: 'reply', reply: { code: 250, lines: ['mx.test Hello', 'PIPELINING', 'SIZE 1000'] } },
    ]);
  });

  it('reply reader splits off the enhanced code only when its class agrees with the reply', () => {
    expect(read('550 5.1.1 <x@y>: unknown\r\n', '250 5.0.0 odd\r\n', '451 4.3.0 try later\r\n')).toEqual([
      { kind: 'reply', reply: { code: 550, enhancedCode: '5.1.1', lines: ['<x@y>: unknown'] } },
      { kind: 'reply', reply: { code: 250, lines: ['5.0.0 odd'] } },
      { kind: 'reply', reply: { code: 451, enhancedCode: '4.3.0', lines: ['try later'] } },
    ]);
  });

  it('reply reader takes a bare code and LF-only line ends', () => {
    expect(read('354\n')).toEqual([{ kind: 'reply', reply: { code: 354, lines: [''] } }]);
  });

  it('reply reader reports lines that are not replies, and a code that changes mid-reply', () => {
    expect(read('hello\r\n')).toEqual([{ kind: 'malformed', line: 'hello' }]);
    expect(read('250-a\r\n251 b\r\n')).toEqual([{ kind: 'malformed', line: '251 b' }]);
  });
});
