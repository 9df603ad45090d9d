// Unit tests of src/libconfig: every rule of the grammar, accepted and rejected, with the line
// of each error; @include; positions kept in the tree; the error class and its message.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LibconfigSyntaxError, parse, parseFile, toJSONText } from '../../../src/libconfig/index.js';
import { cases } from './cases.js';

function run(input: string): string | { errorLine: number } {
  try {
    return toJSONText(parse(input, { file: 'test.cfg', readFile: () => '' }));
  } catch (err) {
    if (err instanceof LibconfigSyntaxError) return { errorLine: err.line };
    throw err;
  }
}

describe('libconfig parse', () => {
  for (const c of cases) {
    it(`libconfig ${c.name}`, () => {
      expect(run(c.input)).toEqual(c.expected);
    });
  }
});

describe('libconfig errors', () => {
  it('libconfig error carries code, file, line and a FILE:LINE: message', () => {
    const err = (() => {
      try {
        parse('a = 1;\ntimeouts = { x = 1; ];', { file: 'mta.conf' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(LibconfigSyntaxError);
    expect(err).toBeInstanceOf(SyntaxError);
    const e = err as LibconfigSyntaxError;
    expect(e.code).toBe('MTA_ERR_CONFIG_SYNTAX');
    expect(e.file).toBe('mta.conf');
    expect(e.line).toBe(2);
    expect(e.message).toBe(`mta.conf:2: ${e.detail}`);
    expect(e.detail).toBe('Cannot parse setting "timeouts": unexpected "]"');
  });

  it('libconfig error names a duplicate setting', () => {
    expect(() => parse('x = 1;\nx = 2;', { file: 'a.cfg' })).toThrow('a.cfg:2: Cannot add setting: duplicate setting "x"');
  });

  it.each([
    ['a NUL', 'a = 1;\n\0', 'Cannot parse input: unexpected character "\\x00"'],
    ['an ESC sequence', 'a = 1;\n\x1b[31m', 'Cannot parse input: unexpected character "\\x1b"'],
    ['a DEL', 'a = 1;\n\x7f', 'Cannot parse input: unexpected character "\\x7f"'],
    ['a bidi override', 'a = 1;\n\u202e', 'Cannot parse input: unexpected character "\\u{202e}"'],
    ['a backslash', 'a = 1;\n\\', 'Cannot parse input: unexpected character "\\\\"'],
    ['a string value', 'a = 1;\nb = "x\0y\ty" }', 'Cannot parse configuration: unexpected "}"'],
    ['an unexpected string', 'a = 1;\nb = { c = 1 } "x\0y\ty";', 'Cannot parse configuration: unexpected string "\\"x\\x00y\\x09y\\""'],
    ['an include path', 'a = 1;\n@include "n\0\r\n.cfg"\n', 'Cannot open include file "n\\x00\\x0d\\x0a.cfg": ENOENT'],
  ])('libconfig error escapes what it quotes from %s', (_label, input, detail) => {
    const readFile = (): string => {
      throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    };
    let error: unknown;
    try {
      parse(input, { file: 'a.cfg', readFile });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LibconfigSyntaxError);
    const e = error as LibconfigSyntaxError;
    expect(e.detail).toBe(detail);
    // eslint-disable-next-line no-control-regex
    expect(e.message).not.toMatch(/[\x00-\x1f\x7f\u202e]/);
  });

  it('libconfig error escapes control characters in the name of an included file', () => {
    const files: Record<string, string> = { 'a\x1b.cfg': 'x = ;\n' };
    const readFile = (p: string): string => files[p] ?? '';
    expect(() => parse('@include "a\x1b.cfg"\n', { file: 'main.cfg', readFile })).toThrow(/^a\\x1b\.cfg:1: /);
  });

  it('libconfig error names an out-of-range integer', () => {
    expect(() => parse('x = 99999999999999999999;', { file: 'a.cfg' })).toThrow(
      'integer "99999999999999999999" is out of range',
    );
  });
});

describe('libconfig tree', () => {
  it('libconfig keeps file and line on settings and values', () => {
    const root = parse('a = 1;\n\ng = {\n  l = ( 1,\n 2L, [ 1.5 ] );\n};', { file: 'p.cfg' });
    const g = root.settings[1];
    expect(g?.position).toEqual({ file: 'p.cfg', line: 3 });
    const l = g?.value.kind === 'group' ? g.value.settings[0] : undefined;
    expect(l?.position.line).toBe(4);
    if (l?.value.kind !== 'list') throw new Error('expected a list');
    expect(l.value.items.map((i) => [i.kind, i.position.line])).toEqual([
      ['int', 4],
      ['int64', 5],
      ['array', 5],
    ]);
  });

  it('libconfig keeps int, int64 and float distinct', () => {
    const root = parse('a = 1; b = 1L; c = 1.0;', { file: 'k.cfg' });
    expect(root.settings.map((s) => [s.value.kind, s.value.kind === 'group' ? 0 : (s.value as { value: unknown }).value])).toEqual([
      ['int', 1],
      ['int64', 1n],
      ['float', 1],
    ]);
  });
});

describe('libconfig octal', () => {
  const kinds = (input: string): unknown[] =>
    parse(input, { file: 'o.cfg' }).settings.map((s) => [s.value.kind, (s.value as { value: unknown }).value]);

  it('libconfig octal follows the hex and binary rules for int and int64', () => {
    expect(kinds('a = 0o17; b = 0Q17L; c = 0q37777777777; d = 0o40000000000; e = 017;')).toEqual([
      ['int', 15],
      ['int64', 15n],
      ['int', -1],
      ['int64', 4294967296n],
      ['int', 17],
    ]);
  });

  it('libconfig octal names a bad digit on its line', () => {
    expect(() => parse('a = 1;\nb = 0o78;', { file: 'o.cfg' })).toThrow('o.cfg:2: Cannot parse integer "0o78": invalid octal digit');
  });
});

describe('libconfig include', () => {
  const files: Record<string, string> = {
    'dir/main.cfg': 'a = 1;\n@include "sub/inc.cfg"\nc = 3;\n',
    // Resolved against the include directory (dir/), as libconfig does, not against dir/sub/.
    'dir/sub/inc.cfg': '  @include "sub/deeper.cfg"\nb = 2;\n',
    'dir/sub/deeper.cfg': 'z = 0;\n',
    'dir/bad.cfg': 'a = 1;\n\n@include "broken.cfg"\n',
    'dir/broken.cfg': 'x = 1;\ny = ;\n',
    'dir/self.cfg': '@include "self.cfg"\n',
  };
  const readFile = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  };

  it('libconfig include resolves every path against the include directory and nests', () => {
    const root = parse(files['dir/main.cfg'] ?? '', { file: 'dir/main.cfg', readFile });
    expect(toJSONText(root)).toBe('{"a":1,"z":0,"b":2,"c":3}');
    expect(root.settings[2]?.position).toEqual({ file: path.join('dir/sub/inc.cfg'), line: 2 });
    expect(root.settings[3]?.position).toEqual({ file: 'dir/main.cfg', line: 3 });
  });

  it('libconfig include does not resolve a nested path against the including file', () => {
    const nested: Record<string, string> = { ...files, 'dir/sub/inc.cfg': '@include "deeper.cfg"\n' };
    const read = (p: string): string => {
      const text = nested[p];
      if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return text;
    };
    expect(() => parse(nested['dir/main.cfg'] ?? '', { file: 'dir/main.cfg', readFile: read })).toThrow(
      'dir/sub/inc.cfg:1: Cannot open include file "deeper.cfg": ENOENT',
    );
  });

  it('libconfig include takes the include directory from the options', () => {
    const root = parse('@include "sub/deeper.cfg"\n', { file: 'elsewhere/x.cfg', includeDir: 'dir', readFile });
    expect(toJSONText(root)).toBe('{"z":0}');
  });

  it('libconfig include reports an error inside the included file with its name and line', () => {
    expect(() => parse(files['dir/bad.cfg'] ?? '', { file: 'dir/bad.cfg', readFile })).toThrow(/^dir\/broken\.cfg:2: /);
  });

  it('libconfig include reports a missing file on the directive line', () => {
    expect(() => parse('a = 1;\n@include "nope.cfg"\n', { file: 'dir/x.cfg', readFile })).toThrow(
      'dir/x.cfg:2: Cannot open include file "nope.cfg": ENOENT',
    );
  });

  it('libconfig include stops at the depth limit', () => {
    expect(() => parse(files['dir/self.cfg'] ?? '', { file: 'dir/self.cfg', readFile })).toThrow(/nested deeper than 10 levels/);
    let depth = 0;
    const counting = (p: string): string => (depth++ < 3 ? readFile(p) : '');
    expect(() => parse('@include "self.cfg"\n', { file: 'dir/self.cfg', readFile: counting, maxIncludeDepth: 2 })).toThrow(
      /deeper than 2/,
    );
  });

  it('libconfig include is recognised only at the start of a line', () => {
    expect(() => parse('a = 1; @include "x.cfg"\n', { file: 'dir/x.cfg', readFile })).toThrow(/^dir\/x\.cfg:1: /);
  });

  it('libconfig parseFile reads from disk and resolves includes beside the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libconfig-'));
    fs.mkdirSync(path.join(dir, 'conf.d'));
    fs.writeFileSync(path.join(dir, 'main.cfg'), 'a = 1;\n@include "conf.d/b.cfg"\n');
    fs.writeFileSync(path.join(dir, 'conf.d', 'b.cfg'), 'b = "two";\n');
    expect(toJSONText(parseFile(path.join(dir, 'main.cfg')))).toBe('{"a":1,"b":"two"}');
    fs.rmSync(dir, { recursive: true });
  });

  it('libconfig parseFile reads a nested include from a subfolder as libconfig does', () => {
    // test/fixtures/libconfig/nested.cfg includes includes/outer.cfg, which includes
    // "includes/inner.cfg": a path relative to nested.cfg's folder, the include directory.
    const fixture = path.resolve(__dirname, '../../fixtures/libconfig/nested.cfg');
    const expected = fs.readFileSync(fixture.replace(/\.cfg$/, '.expected'), 'utf8').trim();
    expect(toJSONText(parseFile(fixture))).toBe(expected);
  });
});
