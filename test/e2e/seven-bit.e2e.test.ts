// The 8BITMIME downgrade (RFC 6152 3) checked by another program: Python's email package parses
// the converted message, and every part decodes byte for byte to the original; nothing 8-bit is left.
import { describe, expect, it } from 'vitest';
import { toSevenBit } from '../../src/relay/seven-bit.js';
import { runPython, shouldRunWith } from '../helpers/peers.js';

const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
const text = 'Grüße aus Köln — naïve café\r\nA line with = and trailing space \r\n' + 'x'.repeat(120) + '\r\n';
const message = Buffer.concat([
  Buffer.from(
    'From: a@example.org\r\nTo: b@example.net\r\nSubject: 8-bit\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BOUND"\r\n\r\npreamble\r\n--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
  ),
  Buffer.from(text, 'utf8'),
  Buffer.from('--BOUND\r\nContent-Type: application/octet-stream\r\n\r\n'),
  binary,
  Buffer.from('\r\n--BOUND--\r\n'),
]);

describe.skipIf(!shouldRunWith('python3', '8BITMIME downgrade check'))('seven bit', () => {
  it('seven bit encodes 8-bit parts so that Python decodes each to the original bytes', async () => {
    const converted = toSevenBit(message);
    expect(converted.some((b) => b > 127)).toBe(false);
    const parts = await runPython<{ type: string; cte: string; hex: string }[]>(
      `import email, json, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read() if False else bytes.fromhex(sys.argv[1]))
print(json.dumps([{'type': p.get_content_type(), 'cte': p.get('Content-Transfer-Encoding', ''), 'hex': p.get_payload(decode=True).hex()} for p in m.walk() if not p.is_multipart()]))`,
      [converted.toString('hex')],
    );
    expect(parts.map((p) => [p.type, p.cte])).toEqual([
      ['text/plain', 'quoted-printable'],
      ['application/octet-stream', 'base64'],
    ]);
    // The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1), not to the part.
    expect(Buffer.from(parts[0]?.hex ?? '', 'hex').toString('utf8')).toBe(text.slice(0, -2));
    expect(Buffer.from(parts[1]?.hex ?? '', 'hex')).toEqual(binary);
  });

  it('seven bit leaves a message without 8-bit bodies as it is', () => {
    const plain = Buffer.from('Subject: x\r\n\r\nhello\r\n');
    expect(toSevenBit(plain)).toEqual(plain);
  });
});
