// Validation: walks a libconfig tree against SCHEMA and builds the frozen, typed Config.
// Every problem is collected (unknown keys with a suggestion, wrong kinds, out-of-range values,
// settings that contradict each other) and thrown together as one ConfigError; nothing is guessed.

import type { GroupValue, Position } from '../libconfig/types.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { describe } from './rules.js';
import { schemaRows, type Setting } from './schema.js';
import type { Config, ListenAddress } from './types.js';

interface Known {
  readonly field: string;
  readonly setting: Setting<unknown>;
}

/** Lookup tables derived once from SCHEMA: settings by key, group keys, and each group's child names. */
const SETTINGS = new Map<string, Known>(schemaRows().map(([field, setting]) => [setting.key, { field, setting }]));
const GROUPS = new Set<string>(['']);
const CHILDREN = new Map<string, string[]>();
for (const key of SETTINGS.keys()) {
  const parts = key.split('.');
  for (let i = 1; i <= parts.length; i++) {
    const parent = parts.slice(0, i - 1).join('.');
    const self = parts.slice(0, i).join('.');
    if (i < parts.length) GROUPS.add(self);
    const siblings = CHILDREN.get(parent) ?? [];
    if (!siblings.includes(self)) CHILDREN.set(parent, [...siblings, self]);
  }
}

/** Counts the edits (insert, delete, substitute, swap neighbours) turning a into b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Finds the known key an unknown one was probably meant to be: a close sibling, else the same name elsewhere. */
export function suggestKey(unknown: string): string | null {
  const dot = unknown.lastIndexOf('.');
  const parent = dot < 0 ? '' : unknown.slice(0, dot);
  const name = unknown.slice(dot + 1).toLowerCase().replaceAll('-', '_');
  let best: { key: string; distance: number } | null = null;
  for (const sibling of CHILDREN.get(parent) ?? []) {
    const distance = editDistance(name, sibling.slice(sibling.lastIndexOf('.') + 1));
    if (distance <= Math.max(1, Math.floor(name.length / 3)) && (best === null || distance < best.distance)) best = { key: sibling, distance };
  }
  if (best !== null) return best.key;
  const elsewhere = [...SETTINGS.keys(), ...GROUPS].filter((key) => key.slice(key.lastIndexOf('.') + 1) === name);
  return elsewhere.length === 1 ? (elsewhere[0] ?? null) : null;
}

/** What one walk over the tree gathers. */
interface Walk {
  readonly problems: ConfigProblem[];
  readonly values: Map<string, unknown>;
  readonly positions: Map<string, Position>;
}

function report(walk: Walk, position: Position, message: string): void {
  walk.problems.push({ file: position.file, line: position.line, message });
}

function walkGroup(group: GroupValue, prefix: string, walk: Walk): void {
  const seen = new Set<string>();
  for (const { name, value, position } of group.settings) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (seen.has(name)) {
      report(walk, position, `setting "${key}" is set twice`);
      continue;
    }
    seen.add(name);
    const known = SETTINGS.get(key);
    if (known !== undefined) {
      const converted = known.setting.convert(value, key);
      if (converted.ok) {
        walk.values.set(known.field, converted.value);
        walk.positions.set(key, position);
      } else {
        for (const p of converted.problems) report(walk, p.position, p.message);
      }
    } else if (GROUPS.has(key)) {
      if (value.kind === 'group') walkGroup(value, key, walk);
      else report(walk, position, `${key} must be a group of settings such as ${key.slice(key.lastIndexOf('.') + 1)} = { ... }; got ${describe(value)}`);
    } else {
      const suggestion = suggestKey(key);
      report(walk, position, `unknown setting "${key}"${suggestion === null ? '' : `; did you mean "${suggestion}"?`}`);
    }
  }
}

/** Reports a problem at the first of `keys` that was set in the file. */
function reportAt(walk: Walk, keys: readonly string[], message: string): void {
  const position = keys.map((k) => walk.positions.get(k)).find((p) => p !== undefined);
  if (position !== undefined) report(walk, position, message);
}

/** TLS settings that need each other: a key with its certificate, submission ports with TLS. */
function crossCheckTls(walk: Walk): void {
  const certificate = walk.values.get('tls.certificate');
  const key = walk.values.get('tls.key');
  if ((certificate === null) !== (key === null)) {
    reportAt(walk, ['tls.certificate', 'tls.key'], 'tls.certificate and tls.key must be set together');
  }
  const listen = (walk.values.get('server.listen') ?? []) as readonly ListenAddress[];
  const needsTls = listen.filter((a) => a.mode !== 'smtp');
  if (certificate === null && needsTls.length > 0) {
    const list = needsTls.map((a) => `"${a.text}"`).join(', ');
    reportAt(walk, ['server.listen'], `server.listen: ${list} need${needsTls.length === 1 ? 's' : ''} TLS; set tls.certificate and tls.key`);
  }
  const seen = new Map<string, string>();
  for (const a of listen) {
    const where = `${a.host}:${a.port}`;
    const first = seen.get(where);
    if (first !== undefined) reportAt(walk, ['server.listen'], `server.listen: "${a.text}" binds the same address and port as "${first}"`);
    else seen.set(where, a.text);
  }
}

/** Checks settings that are each valid but contradict one another. */
function crossCheck(walk: Walk): void {
  crossCheckTls(walk);
  const min = walk.values.get('relay.retryMinIntervalMs');
  const max = walk.values.get('relay.retryMaxIntervalMs');
  if (typeof min === 'number' && typeof max === 'number' && min > max) {
    const position = walk.positions.get('relay.retry_min_interval') ?? walk.positions.get('relay.retry_max_interval');
    if (position !== undefined) {
      report(walk, position, `relay.retry_min_interval (${min / 1000}) must not be greater than relay.retry_max_interval (${max / 1000})`);
    }
  }
}

/** Sorts problems by line within each file (files in order of first mention); stable for ties. */
function inFileOrder(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const files = [...new Set(problems.map((p) => p.file))];
  return [...problems].sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Nests dotted field paths into the Config object and freezes it. */
function assemble(values: ReadonlyMap<string, unknown>): Config {
  const root: Record<string, unknown> = {};
  for (const [field, value] of values) {
    const parts = field.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] ?? ''] = value;
  }
  // The Schema type maps every field path of Config to a rule of that field's type.
  return deepFreeze(root as unknown as Config);
}

/** Validates a parsed config tree into a frozen Config; throws ConfigError listing every problem. */
export function validateConfig(tree: GroupValue): Config {
  const walk: Walk = { problems: [], values: new Map(), positions: new Map() };
  walkGroup(tree, '', walk);
  for (const [field, setting] of schemaRows()) {
    if (!walk.values.has(field)) walk.values.set(field, setting.defaultValue());
  }
  crossCheck(walk);
  if (walk.problems.length > 0) throw new ConfigError(inFileOrder(walk.problems));
  return assemble(walk.values);
}
