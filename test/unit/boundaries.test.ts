// The dependency rules of STYLE.md §2, checked on the import graph of src/: no cycles (types
// included), nothing imports cli/, leaves import no other folder, the pure session imports no
// node: module, server/ and relay/ never meet, and only cli/ knows the Config.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');

/** Every .ts file under src/, as a path relative to src/ (e.g. `server/session.ts`). */
function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => f.split(path.sep).join('/'));
}

/** The import specifiers of a file: `from '...'`, side-effect `import '...'`, and `import('...')`. */
function specifiers(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const found = [...text.matchAll(/(?:from\s+|import\s+|import\()'([^']+)'/g)].map((m) => m[1] ?? '');
  return [...new Set(found)];
}

interface Graph {
  /** File -> the src/ files it imports. */
  readonly files: Map<string, string[]>;
  /** File -> the node: modules it imports. */
  readonly builtins: Map<string, string[]>;
}

function buildGraph(): Graph {
  const files = new Map<string, string[]>();
  const builtins = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const specs = specifiers(file);
    files.set(
      file,
      specs.filter((s) => s.startsWith('.')).map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)).replace(/\.js$/, '.ts')),
    );
    builtins.set(file, specs.filter((s) => s.startsWith('node:')));
  }
  return { files, builtins };
}

const folder = (file: string): string => file.split('/')[0] ?? '';

/** The folders each folder may import besides itself (STYLE.md §2); absent means unrestricted. */
const ALLOWED: Record<string, readonly string[]> = {
  smtp: [],
  log: [],
  libconfig: [],
  fsio: [],
  tls: [],
  config: ['libconfig'],
  dns: ['log'],
  queue: ['smtp', 'log', 'fsio'],
  maildir: ['smtp', 'log', 'fsio'],
  system: ['log', 'fsio'],
  server: ['smtp', 'log'],
  relay: ['smtp', 'log', 'fsio', 'dns', 'tls'],
  auth: ['smtp', 'log', 'fsio'],
  web: ['maildir', 'auth', 'log'],
};

function findCycle(files: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, 'open');
    stack.push(file);
    for (const next of files.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of files.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('boundaries', () => {
  const graph = buildGraph();
  const edges = [...graph.files].flatMap(([from, tos]) => tos.map((to) => ({ from, to })));

  it('boundaries have no import cycle between files, not even through types', () => {
    expect(findCycle(graph.files)).toBeUndefined();
  });

  it('boundaries let nothing import cli/', () => {
    expect(edges.filter((e) => folder(e.to) === 'cli' && folder(e.from) !== 'cli')).toEqual([]);
  });

  it('boundaries keep each folder to the folders it may import', () => {
    const bad = edges.filter((e) => {
      const allowed = ALLOWED[folder(e.from)];
      return allowed !== undefined && folder(e.to) !== folder(e.from) && !allowed.includes(folder(e.to));
    });
    expect(bad.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('boundaries let only cli/ import config/', () => {
    expect(edges.filter((e) => folder(e.to) === 'config' && !['cli', 'config'].includes(folder(e.from))).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('boundaries keep the pure session free of node: modules and of anything but smtp/ and its own types', () => {
    const session = [...graph.files.keys()].filter((f) => /^server\/session[^/]*\.ts$/.test(f));
    expect(session.length).toBeGreaterThan(2);
    for (const file of session) {
      expect(graph.builtins.get(file), file).toEqual([]);
      const outside = (graph.files.get(file) ?? []).filter((to) => folder(to) !== 'smtp' && !/^server\/(session[^/]*|message-sink|authenticator)\.ts$/.test(to));
      expect(outside, file).toEqual([]);
    }
  });

  it('boundaries keep cli/ at most about 15% of src/', () => {
    const lines = (files: string[]) => files.reduce((n, f) => n + readFileSync(path.join(SRC, f), 'utf8').split('\n').length, 0);
    const all = sourceFiles();
    expect(lines(all.filter((f) => folder(f) === 'cli')) / lines(all)).toBeLessThan(0.16);
  });
});
