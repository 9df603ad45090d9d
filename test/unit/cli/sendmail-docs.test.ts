// docs/sendmail.md (and the sendmail(8) page made from it) names every option the parser accepts.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SENDMAIL_OPTIONS } from '../../../src/cli/sendmail-args.js';

const DOC = readFileSync(resolve(__dirname, '../../../docs/sendmail.md'), 'utf8');

describe('docs/sendmail.md', () => {
  it.each([...SENDMAIL_OPTIONS])('docs/sendmail.md documents -%s', (letter) => {
    expect(DOC).toMatch(new RegExp(`\`-${letter}[ \`a-zA-Z"]`));
  });
});
