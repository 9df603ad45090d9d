import { describe, expect, it } from 'vitest';
import { formatLocalPart, parsePath } from '../../../src/smtp/address.js';

const ascii = { utf8Allowed: false };
const utf8 = { utf8Allowed: true };

describe('parsePath', () => {
  it.each([
    ['<user@example.org>', 'user', 'example.org', 'user@example.org'],
    ['<first.last+tag@mail.example.org>', 'first.last+tag', 'mail.example.org', 'first.last+tag@mail.example.org'],
    ["<!#$%&'*+-/=?^_`{|}~@x.y>", "!#$%&'*+-/=?^_`{|}~", 'x.y', "!#$%&'*+-/=?^_`{|}~@x.y"],
    ['<User@Example.ORG>', 'User', 'Example.ORG', 'User@Example.ORG'],
    ['<user@localhost>', 'user', 'localhost', 'user@localhost'],
    ['<u@a-b.c0-9.org>', 'u', 'a-b.c0-9.org', 'u@a-b.c0-9.org'],
    ['<"john doe"@example.org>', 'john doe', 'example.org', '"john doe"@example.org'],
    ['<"john"@example.org>', 'john', 'example.org', 'john@example.org'],
    ['<"a\\"b\\\\c"@example.org>', 'a"b\\c', 'example.org', '"a\\"b\\\\c"@example.org'],
    ['<"\\x"@example.org>', 'x', 'example.org', 'x@example.org'],
    ['<"a..b"@example.org>', 'a..b', 'example.org', '"a..b"@example.org'],
    ['<"a>b@c"@example.org>', 'a>b@c', 'example.org', '"a>b@c"@example.org'],
    ['<""@example.org>', '', 'example.org', '""@example.org'],
    ['<user@[192.0.2.1]>', 'user', '[192.0.2.1]', 'user@[192.0.2.1]'],
    ['<user@[IPv6:2001:db8::1]>', 'user', '[IPv6:2001:db8::1]', 'user@[IPv6:2001:db8::1]'],
    ['<user@[ipv6:::1]>', 'user', '[ipv6:::1]', 'user@[ipv6:::1]'],
    ['<@a.example,@b.example:user@c.example>', 'user', 'c.example', 'user@c.example'],
    ['<@a.example:user@c.example>', 'user', 'c.example', 'user@c.example'],
  ])('parsePath accepts %s', (text, localPart, domain, address) => {
    const result = parsePath(text, 'forward', ascii);
    expect(result).toEqual({ ok: true, path: { localPart, domain, address, isNull: false, isPostmaster: false } });
  });

  it.each([
    ['user@example.org', 'enclosed'],
    ['<user@example.org', 'enclosed'],
    ['user@example.org>', 'enclosed'],
    ['<>', 'null path'],
    ['<user>', 'missing @domain'],
    ['<@example.org>', 'bad source route'],
    ['<user@>', 'empty domain'],
    ['<.user@example.org>', 'bad local part'],
    ['<user.@example.org>', 'bad local part'],
    ['<us..er@example.org>', 'bad local part'],
    ['<us er@example.org>', 'bad local part'],
    ['<us(er)@example.org>', 'bad local part'],
    ['<a@b@example.org>', 'bad domain'],
    ['<user@-example.org>', 'bad domain'],
    ['<user@example-.org>', 'bad domain'],
    ['<user@example..org>', 'bad domain'],
    ['<user@example.org.>', 'bad domain'],
    ['<user@.example.org>', 'bad domain'],
    ['<user@exa_mple.org>', 'bad domain'],
    ['<user@[192.0.2.256]>', 'bad address literal'],
    ['<user@[192.0.2.1>', 'bad address literal'],
    ['<user@[IPv6:2001:db8::g]>', 'bad IPv6'],
    ['<user@[IPv6:fe80::1%eth0]>', 'bad IPv6'],
    ['<user@[2001:db8::1]>', 'bad address literal'],
    ['<user@[x-tag:foo]>', 'bad address literal'],
    ['<"unterminated@example.org>', 'unterminated'],
    ['<"a\tb"@example.org>', 'bad character'],
    ['<"a\\\u00e9"@example.org>', 'bad quoted pair'],
    ['<"a"b@example.org>', 'missing @domain'],
    ['<@a.example,b.example:user@c.example>', 'bad source route'],
    ['<@a_b:user@c.example>', 'bad source route'],
    ['<@a.example user@c.example>', 'bad source route'],
    ['<Postmaster>x', 'enclosed'],
  ])('parsePath rejects %s', (text, reason) => {
    const result = parsePath(text, 'forward', utf8);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('parsePath accepts the null reverse-path', () => {
    expect(parsePath('<>', 'reverse', ascii)).toEqual({
      ok: true,
      path: { localPart: '', domain: '', address: '', isNull: true, isPostmaster: false },
    });
  });

  it.each(['<Postmaster>', '<postmaster>', '<POSTMASTER>'])('parsePath accepts %s as a forward-path only', (text) => {
    const result = parsePath(text, 'forward', ascii);
    expect(result).toEqual({
      ok: true,
      path: { localPart: text.slice(1, -1), domain: '', address: text.slice(1, -1), isNull: false, isPostmaster: true },
    });
    expect(parsePath(text, 'reverse', ascii).ok).toBe(false);
  });

  it('parsePath marks postmaster@domain as postmaster with its domain', () => {
    const result = parsePath('<PostMaster@example.org>', 'forward', ascii);
    expect(result.ok && result.path.isPostmaster && result.path.domain).toBe('example.org');
  });

  it('parsePath accepts a local part of exactly 64 octets', () => {
    expect(parsePath(`<${'a'.repeat(64)}@example.org>`, 'forward', ascii).ok).toBe(true);
  });

  it('parsePath rejects a local part longer than 64 octets', () => {
    const result = parsePath(`<${'a'.repeat(65)}@example.org>`, 'forward', ascii);
    expect(result).toEqual({ ok: false, reason: 'local part longer than 64 octets' });
  });

  it('parsePath counts the quotes of a quoted local part toward 64 octets', () => {
    expect(parsePath(`<"${'a b'.repeat(21)}"@example.org>`, 'forward', ascii).ok).toBe(false);
    expect(parsePath(`<"${'a'.repeat(62)}"@example.org>`, 'forward', ascii).ok).toBe(true);
  });

  it('parsePath rejects a domain label longer than 63 octets', () => {
    expect(parsePath(`<u@${'a'.repeat(63)}.org>`, 'forward', ascii).ok).toBe(true);
    expect(parsePath(`<u@${'a'.repeat(64)}.org>`, 'forward', ascii).ok).toBe(false);
  });

  it('parsePath rejects a path longer than 256 octets including the brackets', () => {
    const domainOf = (n: number) => Array.from({ length: Math.ceil(n / 50) }, () => 'a'.repeat(49)).join('.').slice(0, n);
    const fits = `<u@${domainOf(252)}>`;
    expect(Buffer.byteLength(fits)).toBe(256);
    expect(parsePath(fits, 'forward', ascii).ok).toBe(true);
    const over = `<uu@${domainOf(252)}>`;
    expect(parsePath(over, 'forward', ascii)).toEqual({ ok: false, reason: 'path longer than 256 octets' });
  });

  it('parsePath counts UTF-8 octets, not characters, against the local part limit', () => {
    expect(parsePath(`<${'é'.repeat(32)}@example.org>`, 'forward', utf8).ok).toBe(true);
    expect(parsePath(`<${'é'.repeat(33)}@example.org>`, 'forward', utf8).ok).toBe(false);
  });

  it.each([
    ['<josé@example.org>'],
    ['<user@bücher.example>'],
    ['<"jo sé"@example.org>'],
    ['<用户@例子.广告>'],
  ])('parsePath accepts the UTF-8 address %s only when allowed', (text) => {
    expect(parsePath(text, 'forward', utf8).ok).toBe(true);
    expect(parsePath(text, 'forward', ascii)).toEqual({ ok: false, reason: 'non-ASCII address needs SMTPUTF8', utf8: true });
  });

  it('parsePath reports a syntax error, not a UTF-8 one, for a malformed non-ASCII address', () => {
    const result = parsePath('<jo..sé@example.org>', 'forward', ascii);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.utf8).toBeFalsy();
  });

  it('parsePath rejects the replacement character left by invalid UTF-8', () => {
    expect(parsePath('<a\uFFFDb@example.org>', 'forward', utf8).ok).toBe(false);
    expect(parsePath('<ab@ex\uFFFDample.org>', 'forward', utf8).ok).toBe(false);
  });
});

describe('formatLocalPart', () => {
  it.each([
    ['user', 'user'],
    ['first.last', 'first.last'],
    ['john doe', '"john doe"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['.a', '".a"'],
    ['', '""'],
  ])('formatLocalPart writes %j as %s', (local, wire) => {
    expect(formatLocalPart(local)).toBe(wire);
  });
});
