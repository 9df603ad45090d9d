// The aliases file parser (aliases(5) format) and alias expansion with loop detection.
import { describe, expect, it } from 'vitest';
import { AliasTable, checkAliases } from '../../../src/queue/alias-table.js';
import { parseAliases } from '../../../src/queue/aliases.js';

const FILE = '/etc/aliases';
const DOMAINS = { localDomains: ['example.org', 'example.net'], recipientDelimiter: '+' };

function table(text: string): AliasTable {
  const parsed = parseAliases(text, FILE);
  expect(parsed.problems).toEqual([]);
  return new AliasTable(parsed.entries, DOMAINS);
}

describe('parseAliases', () => {
  it('parseAliases reads names, targets, continuation lines and comments with their lines', () => {
    const text = ['# comment', '', 'Postmaster: root', 'staff:  alice,', '        bob@Example.NET', '   # an indented comment', '\tcarol@remote.test', 'empty-line-below:x', ''].join('\n');
    expect(parseAliases(text, FILE)).toEqual({
      entries: [
        { name: 'postmaster', targets: ['root'], file: FILE, line: 3 },
        { name: 'staff', targets: ['alice', 'bob@Example.NET', 'carol@remote.test'], file: FILE, line: 4 },
        { name: 'empty-line-below', targets: ['x'], file: FILE, line: 8 },
      ],
      problems: [],
    });
  });

  it('parseAliases takes quoted names and quoted local parts, and CRLF line ends', () => {
    const parsed = parseAliases('"Sales Team" : "a b"@example.org, "c,d"@remote.test\r\n', FILE);
    expect(parsed).toEqual({ entries: [{ name: 'sales team', targets: ['"a b"@example.org', '"c,d"@remote.test'], file: FILE, line: 1 }], problems: [] });
  });

  it('parseAliases reports each problem as file, line and message, and leaves the bad aliases out', () => {
    const text = [
      '  orphan@example.org', // 1: continuation with nothing before
      'postmaster root', // 2: no colon
      'bad name: x', // 3
      'pipe: |/usr/bin/procmail', // 4
      'file: alice, /var/log/mail', // 5
      'inc: :include:/etc/list', // 6
      'empty:', // 7
      'ok: alice', // 8
      'ok: bob', // 9: twice
      'multi: alice,', // 10
      '   bad@@x', // 11: the bad target's own line
      '"unterminated: x', // 12
    ].join('\n');
    const parsed = parseAliases(text, FILE);
    expect(parsed.entries.map((e) => e.name)).toEqual(['ok']);
    expect(parsed.problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([
      '/etc/aliases:1: continuation line (starting with a blank) without an alias before it',
      '/etc/aliases:2: missing ":" after the alias name in "postmaster root"',
      '/etc/aliases:3: bad alias name "bad name": quote a name that holds a blank, ",", "#" or "@"',
      '/etc/aliases:4: alias "pipe": pipes to commands are not supported: "|/usr/bin/procmail"',
      '/etc/aliases:5: alias "file": deliveries to files are not supported: "/var/log/mail"',
      '/etc/aliases:6: alias "inc": ":include:" is not supported: ":include:/etc/list"',
      '/etc/aliases:7: alias "empty" has no targets',
      '/etc/aliases:9: alias "ok" is defined twice (first on line 8)',
      '/etc/aliases:11: alias "multi": bad target "bad@@x": bad domain',
      '/etc/aliases:12: unterminated quoted alias name',
    ]);
  });
});

describe('AliasTable', () => {
  it('alias table expands a name in every local domain; unqualified targets take the first local domain', () => {
    const aliases = table('info: alice, carol@remote.test\n');
    const expected = { kind: 'alias', targets: ['alice@example.org', 'carol@remote.test'] };
    expect(aliases.expand('info@example.org')).toEqual(expected);
    expect(aliases.expand('INFO@Example.NET')).toEqual(expected);
    expect(aliases.expand('info@remote.test')).toEqual({ kind: 'not-alias' });
    expect(aliases.expand('alice@example.org')).toEqual({ kind: 'not-alias' });
  });

  it('alias table expands recursively, keeps file order and drops repeats', () => {
    const aliases = table(['all: staff, ops, bob', 'staff: alice, bob@example.org', 'ops: bob@EXAMPLE.ORG, dave@example.net'].join('\n'));
    expect(aliases.expand('all@example.org')).toEqual({ kind: 'alias', targets: ['alice@example.org', 'bob@example.org', 'dave@example.net'] });
  });

  it('alias table treats a name in its own expansion as its mailbox', () => {
    const aliases = table(['alice: alice, alice@home.example', 'team: alice'].join('\n'));
    expect(aliases.expand('alice@example.net')).toEqual({ kind: 'alias', targets: ['alice@example.org', 'alice@home.example'] });
    expect(aliases.expand('team@example.org')).toEqual({ kind: 'alias', targets: ['alice@example.org', 'alice@home.example'] });
  });

  it('alias table looks up name+ext, then name, and drops the extension', () => {
    const aliases = table(['sales: carol', 'sales+eu: erin'].join('\n'));
    expect(aliases.expand('sales+us@example.org')).toEqual({ kind: 'alias', targets: ['carol@example.org'] });
    expect(aliases.expand('sales+eu@example.org')).toEqual({ kind: 'alias', targets: ['erin@example.org'] });
    const plain = new AliasTable(parseAliases('sales: carol', FILE).entries, { ...DOMAINS, recipientDelimiter: '' });
    expect(plain.expand('sales+us@example.org')).toEqual({ kind: 'not-alias' });
  });

  it('alias table matches quoted names against the local part as meant', () => {
    expect(table('"sales team": carol').expand('"Sales Team"@example.org')).toEqual({ kind: 'alias', targets: ['carol@example.org'] });
  });

  it('alias table reports a loop with its chain of names', () => {
    const aliases = table(['a: b', 'b: c@example.net', 'c: a, keep@remote.test', 'd: a'].join('\n'));
    expect(aliases.expand('a@example.org')).toEqual({ kind: 'loop', chain: ['a', 'b', 'c', 'a'] });
    expect(aliases.expand('d@example.org')).toEqual({ kind: 'loop', chain: ['d', 'a', 'b', 'c', 'a'] });
  });

  it('checkAliases reports every alias whose expansion loops, on its own line', () => {
    const parsed = parseAliases(['a: b', 'b: a', 'c: a', 'fine: a@remote.test', 'self: self'].join('\n'), FILE);
    expect(checkAliases(parsed.entries, DOMAINS)).toEqual([
      { file: FILE, line: 1, message: 'alias "a" loops: a -> b -> a' },
      { file: FILE, line: 2, message: 'alias "b" loops: b -> a -> b' },
      { file: FILE, line: 3, message: 'alias "c" loops: c -> a -> b -> a' },
    ]);
  });
});
