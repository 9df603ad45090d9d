// Runs the built program (dist/mta.cjs) as an operator would and checks exit status and output.
// `npm test` builds first; run on its own, this file rebuilds only if a source file is newer.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFile, toJSONText } from '../../../src/libconfig/index.js';

const ROOT = resolve(__dirname, '../../..');
const MTA = join(ROOT, 'dist/mta.cjs');
const FIXTURES = join(ROOT, 'test/fixtures/config');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function newestMtime(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newestMtime(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
    ),
  );
}

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs mta with the fixtures folder as working directory, so messages name files as passed. */
function mta(...args: string[]): Outcome {
  const r = spawnSync(process.execPath, [MTA, ...args], { cwd: FIXTURES, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(MTA) || statSync(MTA).mtimeMs < newestMtime(join(ROOT, 'src'))) {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
});

describe('mta -t', () => {
  const fixtures = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.conf'))
    .map((name) => name.slice(0, -'.conf'.length));

  it.each(fixtures)('mta -t -f %s.conf prints exactly the expected lines', (name) => {
    const expected = readFileSync(join(FIXTURES, `${name}.expected`), 'utf8');
    const r = mta('-t', '-f', `${name}.conf`);
    if (expected === '') {
      expect(r).toEqual({ status: 0, stdout: `mta: configuration ${name}.conf is valid\n`, stderr: '' });
    } else {
      expect(r).toEqual({ status: 1, stdout: '', stderr: expected });
    }
  });

  it('mta -t alone checks the embedded default', () => {
    expect(mta('-t')).toEqual({ status: 0, stdout: 'mta: configuration (embedded default) is valid\n', stderr: '' });
  });

  it('mta -t accepts the shipped etc/mta.conf', () => {
    expect(mta('-t', '-f', join(ROOT, 'etc/mta.conf'))).toEqual({
      status: 0,
      stdout: `mta: configuration ${join(ROOT, 'etc/mta.conf')} is valid\n`,
      stderr: '',
    });
  });

  it('mta -t reports a missing file in one line', () => {
    expect(mta('-t', '-f', 'no-such.conf')).toEqual({ status: 1, stdout: '', stderr: 'mta: cannot read no-such.conf: no such file or directory\n' });
  });

  it('mta -t reports a directory in one line', () => {
    expect(mta('-t', '-f', 'include')).toEqual({ status: 1, stdout: '', stderr: 'mta: cannot read include: illegal operation on a directory\n' });
  });
});

describe('mta run and queue with a bad config', () => {
  it('mta -f refuses to start with every problem listed', () => {
    expect(mta('-f', 'bad-kinds.conf')).toEqual({ status: 1, stdout: '', stderr: readFileSync(join(FIXTURES, 'bad-kinds.expected'), 'utf8') });
  });

  it('mta -f with a missing file says it cannot read it', () => {
    expect(mta('-f', 'no-such.conf')).toEqual({ status: 1, stdout: '', stderr: 'mta: cannot read no-such.conf: no such file or directory\n' });
  });

  it('mta queue loads the config before the queue command runs', () => {
    expect(mta('queue', 'list', '-f', 'bad-syntax.conf')).toEqual({ status: 1, stdout: '', stderr: readFileSync(join(FIXTURES, 'bad-syntax.expected'), 'utf8') });
  });
});

describe('aliases file: mta newaliases and mta -t', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mta-newaliases-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const configWith = (aliases: string) => write('mta.conf', `domains = [ "example.org" ];\nmaildir = { aliases = "${aliases}"; };\n`);

  it('mta newaliases checks the aliases file the config names and says how many aliases it holds', () => {
    const config = configWith(write('aliases', 'postmaster: root\nroot: alice, bob@remote.test\n'));
    expect(mta('newaliases', '-f', config)).toEqual({
      status: 0,
      stdout: `mta: aliases file ${join(dir, 'aliases')} is valid (2 aliases); send SIGHUP to a running mta to use it\n`,
      stderr: '',
    });
  });

  it('mta newaliases and mta -t print every problem as FILE:LINE: message and exit 1', () => {
    const aliases = write('bad-aliases', 'a: b\nb: a\npipe: |/bin/cat\nok root\n');
    const config = configWith(aliases);
    const stderr = [`${aliases}:1: alias "a" loops: a -> b -> a`, `${aliases}:2: alias "b" loops: b -> a -> b`, `${aliases}:3: alias "pipe": pipes to commands are not supported: "|/bin/cat"`, `${aliases}:4: missing ":" after the alias name in "ok root"`].map((l) => `${l}\n`).join('');
    expect(mta('newaliases', '-f', config)).toEqual({ status: 1, stdout: '', stderr });
    expect(mta('-t', '-f', config)).toEqual({ status: 1, stdout: '', stderr });
  });

  it('mta newaliases reports an aliases file it cannot read in one line', () => {
    const config = configWith(join(dir, 'missing'));
    expect(mta('newaliases', '-f', config)).toEqual({ status: 1, stdout: '', stderr: `mta: cannot read aliases file ${join(dir, 'missing')}: no such file or directory\n` });
  });

  it('mta newaliases without an aliases file configured says so and exits 0', () => {
    expect(mta('newaliases')).toEqual({ status: 0, stdout: 'mta: no aliases file is configured (maildir.aliases in (embedded default))\n', stderr: '' });
  });

  it('mta -f refuses to start with a bad aliases file, listing its problems', () => {
    const aliases = write('loop', 'a: a@example.org, b\nb: a\n');
    expect(mta('-f', configWith(aliases))).toEqual({ status: 1, stdout: '', stderr: `${aliases}:1: alias "a" loops: a -> b -> a\n${aliases}:2: alias "b" loops: b -> a -> b\n` });
  });
});

describe('mta config --json', () => {
  it('mta config --json prints the canonical JSON of the raw tree', () => {
    const r = mta('config', '--json', 'good-full.conf');
    expect(r).toEqual({ status: 0, stdout: `${toJSONText(parseFile(join(FIXTURES, 'good-full.conf')))}\n`, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({ domains: ['Example.org', 'example.net'], server: { workers: 4 } });
  });

  it('mta config --json does not validate settings', () => {
    expect(mta('config', '--json', 'bad-unknown.conf').status).toBe(0);
  });

  it('mta config --json reports a syntax error as FILE:LINE: message', () => {
    expect(mta('config', '--json', 'bad-syntax.conf')).toEqual({ status: 1, stdout: '', stderr: readFileSync(join(FIXTURES, 'bad-syntax.expected'), 'utf8') });
  });

  it('mta config --json reports a missing file in one line', () => {
    expect(mta('config', '--json', 'no-such.conf')).toEqual({ status: 1, stdout: '', stderr: 'mta: cannot read no-such.conf: no such file or directory\n' });
  });
});

describe('mta usage', () => {
  it('mta --version prints the package version and the Node version', () => {
    expect(mta('--version')).toEqual({ status: 0, stdout: `mta ${VERSION} (Node.js ${process.version})\n`, stderr: '' });
  });

  it('mta --help prints usage on stdout', () => {
    const r = mta('--help');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage:\n/);
    for (const form of ['mta -t [-f FILE]', 'mta config --json FILE', 'mta queue', 'mta newaliases [-f FILE]', '--version']) expect(r.stdout).toContain(form);
  });

  it.each([
    [['-x'], 'mta: unknown option "-x"; try "mta --help"\n'],
    [['--bogus'], 'mta: unknown option "--bogus"; try "mta --help"\n'],
    [['-f'], 'mta: option -f needs a file argument; try "mta --help"\n'],
    [['frobnicate'], 'mta: unknown command "frobnicate"; try "mta --help"\n'],
    [['config', 'good-full.conf'], 'mta: "mta config" needs --json; try "mta --help"\n'],
    [['queue'], 'mta: missing queue command (list, show, flush or delete); try "mta --help"\n'],
  ])('mta %j exits 64 with one line', (args, stderr) => {
    expect(mta(...args)).toEqual({ status: 64, stdout: '', stderr });
  });
});
