// Keeps the docs and the shipped example in step with SCHEMA: every setting is documented with its
// type, range and default, and etc/mta.conf shows every setting (set or as a commented-out default).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, schemaRows, type Config } from '../../../src/config/index.js';
import { parse, type GroupValue } from '../../../src/libconfig/index.js';

const ROOT = resolve(__dirname, '../../..');
const DOCS = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
const EXAMPLE_PATH = join(ROOT, 'etc/mta.conf');
const EXAMPLE = readFileSync(EXAMPLE_PATH, 'utf8');
/** The file etc/mta.conf includes for the host name and local domains (written by the package). */
const HOST_EXAMPLE = readFileSync(join(ROOT, 'etc/mta/host.conf'), 'utf8');
const ROWS = schemaRows();

/** Lists the dotted keys of every non-group setting in a tree. */
function keysOf(group: GroupValue, prefix = ''): string[] {
  return group.settings.flatMap(({ name, value }) => {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    return value.kind === 'group' ? keysOf(value, key) : [key];
  });
}

/** Turns `#name = value;` lines (commented-out settings) into settings; prose comments (`# ...`) stay. */
function uncomment(text: string): string {
  return text.replace(/^(\s*)#(?=[a-z_]+\s*=)/gm, '$1');
}

function field(config: Config, path: string): unknown {
  return path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
}

/** The text of the docs section headed by a key, up to the next heading. */
function section(key: string): string {
  const start = DOCS.indexOf(`\n### \`${key}\`\n`);
  if (start < 0) return '';
  const end = DOCS.slice(start + 1).search(/\n##/);
  return end < 0 ? DOCS.slice(start) : DOCS.slice(start, start + 1 + end);
}

describe('docs/configuration.md', () => {
  it.each(ROWS.map(([, s]) => [s.key, s] as const))('docs/configuration.md documents %s with its type, range and default', (key, s) => {
    const text = section(key);
    expect(text, `no "### \`${key}\`" section`).not.toBe('');
    expect(text).toContain(`- Type: ${s.type}\n`);
    if (s.range !== '') expect(text).toContain(`- Range: ${s.range}\n`);
    expect(text).toContain(`- Default: ${s.defaultText}\n`);
    expect(text).toContain('Why change it: ');
    expect(DOCS).toContain(`| [\`${key}\`](#${key.replaceAll('.', '')}) |`);
  });

  it('docs/configuration.md documents no setting that does not exist', () => {
    const documented = [...DOCS.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(ROWS.map(([, s]) => s.key).sort());
  });
});

describe('etc/mta.conf', () => {
  it('etc/mta.conf is valid', () => {
    expect(() => loadConfig(EXAMPLE_PATH)).not.toThrow();
  });

  it('etc/mta.conf shows every setting, set or commented out', () => {
    const keys = keysOf(parse(uncomment(EXAMPLE), { file: EXAMPLE_PATH }));
    expect(keys.sort()).toEqual(ROWS.map(([, s]) => s.key).sort());
  });

  // A setting that is unset by default (null) is shown commented out with an example value.
  it('etc/mta.conf comments out only defaults (or examples of unset settings), and stays valid with them uncommented', () => {
    const active = new Set(keysOf(parse(EXAMPLE, { file: EXAMPLE_PATH })));
    const uncommented = parseConfig(uncomment(EXAMPLE), EXAMPLE_PATH);
    const defaults = parseConfig('', 'empty.conf');
    for (const [path, s] of ROWS) {
      if (!active.has(s.key) && field(defaults, path) !== null) expect(field(uncommented, path), s.key).toEqual(field(defaults, path));
    }
  });

  it('etc/mta.conf explains each setting with a comment line on why to change it', () => {
    for (const [, s] of ROWS) {
      const name = s.key.slice(s.key.lastIndexOf('.') + 1);
      expect(EXAMPLE + HOST_EXAMPLE, s.key).toMatch(new RegExp(`# ${s.doc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\n\\s*# .+\\n\\s*#?${name} = `));
    }
  });

  it('etc/mta.conf sets up a production install', () => {
    const config = loadConfig(EXAMPLE_PATH);
    expect(config).toMatchObject({ user: 'mta', group: 'mta', log: { file: '/var/log/mta/mta.log' }, maildir: { root: '/var/mail/vhosts' }, queue: { root: '/var/spool/mta' } });
    expect(config.server.listen.map((a) => `${a.text} ${a.mode}`)).toEqual([
      '0.0.0.0:25 smtp',
      '[::]:25 smtp',
      '0.0.0.0:587/submission submission',
      '[::]:587/submission submission',
      '0.0.0.0:465/submissions submissions',
      '[::]:465/submissions submissions',
    ]);
    // Debian's snakeoil pair, as Postfix's packaged main.cf uses.
    expect(config.tls).toMatchObject({ certificate: '/etc/ssl/certs/ssl-cert-snakeoil.pem', key: '/etc/ssl/private/ssl-cert-snakeoil.key' });
    expect(config.auth.database).toBe('/var/lib/mta/users.db');
    expect(config.domains).toEqual(['localhost', config.hostname]);
  });
});
