// The upstream corpus (hyperrealm/libconfig test data in shared/libconfig-upstream beside the
// repository): each NAME.cfg must give NAME.expected-1.8.2 if present, else NAME.expected.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LibconfigSyntaxError, parseFile, toJSONText } from '../../../src/libconfig/index.js';

const corpus = path.resolve(__dirname, '../../../../shared/libconfig-upstream');

function expectedFor(name: string): string {
  const newer = path.join(corpus, `${name}.expected-1.8.2`);
  return fs.readFileSync(fs.existsSync(newer) ? newer : path.join(corpus, `${name}.expected`), 'utf8').trim();
}

describe('libconfig corpus', () => {
  it('libconfig corpus is present beside the repository', () => {
    // Fail loudly: CI clones shared/ beside the repo, and a missing corpus must not pass quietly.
    expect(fs.existsSync(corpus), `missing corpus at ${corpus}`).toBe(true);
    expect(fs.readdirSync(corpus).filter((f) => f.endsWith('.cfg')).length).toBeGreaterThan(0);
  });

  const names = fs.existsSync(corpus)
    ? fs.readdirSync(corpus).filter((f) => f.endsWith('.cfg')).map((f) => f.slice(0, -4)).sort()
    : [];
  for (const name of names) {
    it(`libconfig corpus ${name} matches its expected output`, () => {
      const expected = expectedFor(name);
      let actual: string;
      try {
        actual = toJSONText(parseFile(path.join(corpus, `${name}.cfg`)));
      } catch (err) {
        if (!(err instanceof LibconfigSyntaxError)) throw err;
        actual = `ERROR ${err.line}`;
      }
      // For errors, compare the line only: wording is ours.
      expect(actual).toBe(expected.startsWith('ERROR') ? expected.replace(/:.*$/, '') : expected);
    });
  }
});
