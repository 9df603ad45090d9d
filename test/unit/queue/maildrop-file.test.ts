import { describe, expect, it } from 'vitest';
import { isDropName, isDropTempName, newDropName, parseDrop, serializeDrop } from '../../../src/queue/maildrop-file.js';

const request = { sender: null, fullName: 'A B', recipients: ['x@y'], extractRecipients: true };

describe('maildrop file', () => {
  it('maildrop file round-trips the request and keeps the message bytes', () => {
    const message = Buffer.from([0x53, 0x0a, 0xff, 0x00, 0x0d, 0x0a]);
    expect(parseDrop(serializeDrop(request, message))).toEqual({ ok: true, request, message });
  });

  it('maildrop file refuses other files and bad request lines', () => {
    expect(parseDrop(Buffer.from('From: x\n\nhi\n'))).toEqual({ ok: false, problem: 'not a maildrop file' });
    expect(parseDrop(Buffer.from('MTA-MAILDROP 1\n{"sender":1}\n'))).toMatchObject({ ok: false, problem: expect.stringMatching(/^request sender/) });
    expect(parseDrop(Buffer.from('MTA-MAILDROP 1\n{nope\n'))).toEqual({ ok: false, problem: 'request line is not JSON' });
  });

  it('maildrop file names are unguessable and tell complete files from temp ones', () => {
    const name = newDropName();
    expect(isDropName(name)).toBe(true);
    expect(newDropName()).not.toBe(name);
    expect(isDropTempName(newDropName('t.'))).toBe(true);
    expect(isDropName('d.../etc')).toBe(false);
  });
});
