import { describe, expect, it } from 'vitest';
import { decodeSaslLine, LOGIN_PASSWORD_PROMPT, LOGIN_USERNAME_PROMPT, parseLoginAnswer, parseMechanism, parsePlain } from '../../../src/smtp/sasl.js';
import { formatReply, replies } from '../../../src/smtp/reply.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('sasl', () => {
  it('parseMechanism takes PLAIN and LOGIN in any case and nothing else', () => {
    expect(parseMechanism('plain')).toBe('PLAIN');
    expect(parseMechanism('Login')).toBe('LOGIN');
    expect(parseMechanism('CRAM-MD5')).toBeUndefined();
    expect(parseMechanism('')).toBeUndefined();
  });

  it('decodeSaslLine decodes strict base64 and = as the empty response', () => {
    expect(decodeSaslLine(b64('\0alice\0secret'))?.toString()).toBe('\0alice\0secret');
    expect(decodeSaslLine('=')?.length).toBe(0);
    for (const bad of ['not base64!', 'YWxpY2U', 'YW xp', 'YWxpY2U=\r', '*', 'YQ===']) expect(decodeSaslLine(bad), bad).toBeUndefined();
  });

  it('parsePlain splits authzid, login and password (RFC 4616)', () => {
    expect(parsePlain(Buffer.from('\0alice@example.org\0s3cr3t'))).toEqual({ authzid: '', login: 'alice@example.org', password: 's3cr3t' });
    expect(parsePlain(Buffer.from('bob\0bob\0pw'))).toEqual({ authzid: 'bob', login: 'bob', password: 'pw' });
    expect(parsePlain(Buffer.from('\0gr\u00fc\u00dfe\0p\u00e4ss'))).toEqual({ authzid: '', login: 'gr\u00fc\u00dfe', password: 'p\u00e4ss' });
  });

  it('parsePlain refuses messages without two NULs, with three, empty parts or bad UTF-8', () => {
    for (const bad of ['alice\0secret', '\0\0secret', '\0alice\0', 'a\0b\0c\0d']) expect(parsePlain(Buffer.from(bad)), JSON.stringify(bad)).toBeUndefined();
    expect(parsePlain(Buffer.from([0, 0xff, 0xfe, 0, 0x61]))).toBeUndefined();
  });

  it('parseLoginAnswer decodes UTF-8 text without NUL', () => {
    expect(parseLoginAnswer(Buffer.from('alice'))).toBe('alice');
    expect(parseLoginAnswer(Buffer.from('a\0b'))).toBeUndefined();
    expect(parseLoginAnswer(Buffer.from([0xc3]))).toBeUndefined();
  });

  it('LOGIN prompts are Username: and Password: in base64', () => {
    expect(Buffer.from(LOGIN_USERNAME_PROMPT, 'base64').toString()).toBe('Username:');
    expect(Buffer.from(LOGIN_PASSWORD_PROMPT, 'base64').toString()).toBe('Password:');
  });

  it('formatReply keeps the space of an empty 334 challenge (RFC 4954 4)', () => {
    expect(formatReply(replies.saslChallenge(''))).toBe('334 \r\n');
    expect(formatReply(replies.saslChallenge(LOGIN_USERNAME_PROMPT))).toBe('334 VXNlcm5hbWU6\r\n');
    expect(formatReply(replies.authSucceeded())).toBe('235 2.7.0 Authentication successful\r\n');
  });
});
