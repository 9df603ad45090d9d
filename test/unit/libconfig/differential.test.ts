// Differential tests against the system's C libconfig (Debian's libconfig-dev, 1.5) through
// test/helpers/libconfig-ref/dump.c: the hand-written cases where 1.5 and 1.8 agree, and
// documents generated within the subset both versions read the same way.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibconfigSyntaxError, parse, parseFile, toJSONText } from '../../../src/libconfig/index.js';
import { cases } from './cases.js';

const source = path.resolve(__dirname, '../../helpers/libconfig-ref/dump.c');
let workDir = '';
let dumper = '';
let hasFailed = false;

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'libconfig-ref-'));
  dumper = path.join(workDir, 'dump');
  execFileSync('cc', ['-O2', '-o', dumper, source, '-lconfig'], { stdio: 'pipe' });
});

afterAll(() => {
  if (hasFailed) console.log(`libconfig differential: inputs kept in ${workDir}`);
  else fs.rmSync(workDir, { recursive: true, force: true });
});

/** Runs the C dumper over many documents in one process; one output line per document. */
function reference(docs: readonly string[]): string[] {
  const dir = fs.mkdtempSync(path.join(workDir, 'batch-'));
  const files = docs.map((doc, i) => {
    const file = path.join(dir, `${i}.cfg`);
    fs.writeFileSync(file, doc);
    return file;
  });
  const out = execFileSync(dumper, files, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\n').slice(0, docs.length);
}

/** Writes a tree of files (relative path -> text) into a fresh folder; returns the folder. */
function writeTree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(workDir, 'tree-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function oursFile(file: string): string {
  try {
    return toJSONText(parseFile(file));
  } catch (err) {
    if (err instanceof LibconfigSyntaxError) return `ERROR ${err.line}`;
    throw err;
  }
}

function ours(doc: string): string {
  try {
    return toJSONText(parse(doc, { file: 'doc.cfg' }));
  } catch (err) {
    if (err instanceof LibconfigSyntaxError) return `ERROR ${err.line}`;
    throw err;
  }
}

const comparable = (line: string): string => line.replace(/^(ERROR \d+):.*$/, '$1');

function check(docs: readonly string[]): void {
  const want = reference(docs).map(comparable);
  docs.forEach((doc, i) => {
    const got = ours(doc);
    if (got !== want[i]) hasFailed = true;
    expect({ doc, result: got }).toEqual({ doc, result: want[i] });
  });
}

// Generators for the common subset of 1.5 and 1.8: no trailing commas, no 0b, 0o or 0q, no
// integer beyond 32 bits without L, no \a \b \v, every comment ends in a newline. Leading zeros
// are in it: both read `010` as decimal 10.
const name = fc.stringMatching(/^[A-Za-z*][-A-Za-z0-9_*]{0,6}$/);
const zeros = fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => '0'.repeat(n)) });
const withZeros = (v: bigint | number, z: string): string => (v < 0 ? `-${z}${-v}` : `${z}${v}`);
const int = fc.tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), zeros).map(([v, z]) => withZeros(v, z));
const int64 = fc.tuple(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), zeros).map(([v, z]) => `${withZeros(v, z)}L`);
const hex = fc.integer({ min: 0, max: 0x7fffffff }).map((v) => `0x${v.toString(16)}`);
const float = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }).map((v) => (Number.isInteger(v) ? v.toFixed(1) : String(v))),
  fc.tuple(fc.nat(999), fc.nat(99), fc.integer({ min: -30, max: 30 })).map(([a, b, e]) => `${a}.${b}e${e}`),
);
const bool = fc.constantFrom('true', 'false', 'TRUE', 'False');
const strChar = fc.oneof(
  fc.constantFrom('a', 'Z', ' ', '#', '/', '*', 'é', '\\n', '\\t', '\\r', '\\f', '\\\\', '\\"', '\\x41', '\\x7e', '\\q', '\n'),
);
const str = fc.array(fc.array(strChar, { maxLength: 6 }).map((cs) => `"${cs.join('')}"`), { minLength: 1, maxLength: 2 }).map((p) => p.join(' '));
const scalarOf = (kind: number): fc.Arbitrary<string> => [int, int64, hex, float, bool, str][kind] ?? int;
const scalar = fc.nat(5).chain(scalarOf);
const gap = fc.constantFrom(' ', '', '\n', ' /* c\n */ ', ' # c\n', ' // c\n', '\t');

const value: fc.Memo<string> = fc.memo((depth) =>
  depth <= 1
    ? scalar
    : fc.oneof(
        { weight: 3, arbitrary: scalar },
        // Arrays are mostly of one kind; sometimes mixed, which both versions reject.
        { weight: 1, arbitrary: fc.tuple(fc.nat(5), fc.boolean()).chain(([k, mixed]) =>
            fc.array(mixed ? scalar : scalarOf(k), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`)) },
        { weight: 1, arbitrary: fc.array(value(depth - 1), { maxLength: 3 }).map((xs) => `(${xs.join(', ')})`) },
        { weight: 1, arbitrary: group(depth - 1).map((g) => `{${g}}`) },
      ),
);
const setting = (depth: number): fc.Arbitrary<string> =>
  fc.tuple(name, fc.constantFrom('=', ':', ' = '), value(depth), fc.constantFrom(';', ',', ';\n', ''), gap).map(
    ([n, eq, v, term, g]) => `${n}${eq}${v}${term === '' ? ' ' : term}${g}`,
  );
const group = (depth: number): fc.Arbitrary<string> => fc.array(setting(depth), { maxLength: 4 }).map((s) => s.join(''));
// A few documents get a corruption, so the error paths (and their lines) are compared too;
// never a comma, which 1.8 may accept as a trailing or repeated one.
const corruption = fc.option(fc.tuple(fc.nat(), fc.constantFrom('}', ']', ';', '=', '$', '"', '(')), { freq: 4 });
const documentArb = fc.tuple(group(3), gap, corruption).map(([body, g, cut]) => {
  const doc = `${body}${g}\n`;
  // Cut only between tokens' characters that cannot join a number: splitting `123L` into
  // `12` and `3L` would leave the common subset (1.5 wraps big ints),
  // and so would a `]` after a comma (a trailing comma, which only 1.7 and later accept).
  const spots = [...doc].flatMap((_, i) => (/[-+.0-9A-Za-z_*\\,]/.test(doc[i - 1] ?? '') || /[-+.0-9A-Za-z_*\\]/.test(doc[i] ?? '') ? [] : [i]));
  if (!cut || spots.length === 0) return doc;
  const at = spots[cut[0] % spots.length] ?? 0;
  return doc.slice(0, at) + cut[1] + doc.slice(at);
});

describe('libconfig differential against the C library', () => {
  it('libconfig agrees with the C library on hand-written cases outside the 1.5 differences', () => {
    check(cases.filter((c) => !c.differs).map((c) => c.input));
  });

  it('libconfig differs from 1.5 exactly where the cases say so', () => {
    const differing = cases.filter((c) => c.differs);
    const want = reference(differing.map((c) => c.input)).map(comparable);
    differing.forEach((c, i) => expect({ name: c.name, same: ours(c.input) === want[i] }).toEqual({ name: c.name, same: false }));
  });

  // The dumper sets the include directory to the top file's folder, as mta does.
  it.each([
    ['a nested include from a subfolder', { 'sub/a.cfg': 'a = 1;\n@include "sub/b.cfg"\n', 'sub/b.cfg': 'b = 2;\n' }],
    ['a nested path relative to the including file', { 'sub/a.cfg': 'a = 1;\n@include "b.cfg"\n', 'sub/b.cfg': 'b = 2;\n' }],
    ['the same name in both folders', { 'sub/a.cfg': '@include "b.cfg"\n', 'sub/b.cfg': 'b = "sub";\n', 'b.cfg': 'b = "top";\n' }],
  ])('libconfig resolves %s as the C library does', (_name, files) => {
    const dir = writeTree({ 'main.cfg': 'm = 0;\n@include "sub/a.cfg"\nz = 9;\n', ...files });
    const main = path.join(dir, 'main.cfg');
    const want = comparable(execFileSync(dumper, [main], { encoding: 'utf8' }).split('\n')[0] ?? '');
    const got = oursFile(main);
    if (got !== want) hasFailed = true;
    expect(got).toBe(want);
  });

  it('libconfig agrees with the C library on generated documents', () => {
    const docs = fc.sample(documentArb, { numRuns: 3000, seed: 20250601 });
    check(docs);
    // Fresh documents each run as well, fewer of them.
    check(fc.sample(documentArb, 1000));
  });
});
