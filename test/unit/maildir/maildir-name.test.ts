import { describe, expect, it } from 'vitest';
import { encodeHost, MaildirNamer, withSize } from '../../../src/maildir/maildir-name.js';

describe('maildir-name', () => {
  it('maildir-name builds <seconds>.M<micros>P<pid>Q<n>.<host>', () => {
    const namer = new MaildirNamer({ hostname: 'mx.example.org', pid: 4242, nowMicros: () => 1_700_000_000_123_456n });
    expect(namer.next()).toBe('1700000000.M123456P4242Q1.mx.example.org');
    expect(namer.next()).toBe('1700000000.M123456P4242Q2.mx.example.org');
  });

  it('maildir-name encodes / and : in the host as Dovecot does', () => {
    expect(encodeHost('a/b:c')).toBe('a\\057b\\072c');
    const namer = new MaildirNamer({ hostname: 'x:y', pid: 1, nowMicros: () => 5n });
    expect(namer.next()).toBe('0.M5P1Q1.x\\072y');
  });

  it('maildir-name appends the exact size', () => {
    expect(withSize('1.M2P3Q4.h', 1234)).toBe('1.M2P3Q4.h,S=1234');
  });

  it('maildir-name gives distinct names with the real clock', () => {
    const namer = new MaildirNamer();
    const names = new Set(Array.from({ length: 1000 }, () => namer.next()));
    expect(names.size).toBe(1000);
    expect([...names][0]).toMatch(/^\d{10}\.M\d{1,6}P\d+Q1\.[^/:]+$/);
  });
});
