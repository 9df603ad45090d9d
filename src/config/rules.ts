// Rules for one setting each: how a libconfig value becomes a typed field, what its default is,
// and how the docs describe its type and range. The schema table in schema.ts is built from these.
// Checks of single strings (domain, address, CIDR) live in addresses.ts; nothing here reads files.

import type { Position, Value } from '../libconfig/types.js';

/** A problem found in one value, before the file and key are known to the caller. */
export interface ValueProblem {
  readonly position: Position;
  readonly message: string;
}

/** The outcome of converting one value: the typed field, or the problems found. */
export type Converted<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly ValueProblem[] };

/** One setting's rule: conversion, default and the words the docs use for it. */
export interface Rule<T> {
  /** Type as the docs name it, e.g. `integer (seconds)`. */
  readonly type: string;
  /** Allowed range or values as the docs show them; '' when any value of the type goes. */
  readonly range: string;
  /** The default as it would be written in the file, or a phrase such as `unset (stderr)`. */
  readonly defaultText: string;
  /** Builds the default field value (in Config units). */
  readonly defaultValue: () => T;
  /** Converts a value from the tree into the field value (in Config units), or reports problems. */
  readonly convert: (value: Value, key: string) => Converted<T>;
}

/** Parses one string item of a list; `reason` completes the sentence `"item" ...`. */
export type ItemParser<T> = (text: string) => { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Describes a value as written, for messages: strings quoted, numbers plain, containers named. */
export function describe(value: Value): string {
  switch (value.kind) {
    case 'string':
      return JSON.stringify(value.value);
    case 'int':
    case 'int64':
    case 'bool':
      return String(value.value);
    case 'float':
      return Number.isInteger(value.value) ? value.value.toFixed(1) : String(value.value);
    case 'group':
      return 'a group';
    case 'array':
      return 'an array';
    case 'list':
      return 'a list';
  }
}

function ok<T>(value: T): Converted<T> {
  return { ok: true, value };
}

function fail<T>(position: Position, message: string): Converted<T> {
  return { ok: false, problems: [{ position, message }] };
}

/** Reads an int or int64 as a bigint (so int64 values are never truncated); null for other kinds. */
function integerOf(value: Value): bigint | null {
  if (value.kind === 'int') return BigInt(value.value);
  if (value.kind === 'int64') return value.value;
  return null;
}

const UNIT_WORDS = { seconds: 'a number of seconds', bytes: 'a number of bytes', none: 'an integer' } as const;

/**
 * Builds the rule for an integer setting in [min, max]. With unit 'seconds' the file says seconds
 * and the field holds milliseconds.
 */
export function integer(min: number, max: number, def: number, unit: keyof typeof UNIT_WORDS = 'none'): Rule<number> {
  const scale = unit === 'seconds' ? 1000 : 1;
  return {
    type: unit === 'none' ? 'integer' : `integer (${unit})`,
    range: `${min} to ${max}`,
    defaultText: String(def),
    defaultValue: () => def * scale,
    convert: (value, key) => {
      const n = integerOf(value);
      if (n === null || n < BigInt(min) || n > BigInt(max)) {
        return fail(value.position, `${key} must be ${UNIT_WORDS[unit]} from ${min} to ${max}, got ${describe(value)}`);
      }
      return ok(Number(n) * scale);
    },
  };
}

/** Builds the rule for a yes/no setting. */
export function flag(def: boolean): Rule<boolean> {
  return {
    type: 'boolean',
    range: 'true, false',
    defaultText: String(def),
    defaultValue: () => def,
    convert: (value, key) =>
      value.kind === 'bool' ? ok(value.value) : fail(value.position, `${key} must be true or false, got ${describe(value)}`),
  };
}

/** Builds the rule for a setting that takes one of a few words. */
export function oneOf<T extends string>(values: readonly T[], def: T): Rule<T> {
  const listed = values.map((v) => JSON.stringify(v)).join(', ');
  return {
    type: 'string',
    range: listed,
    defaultText: JSON.stringify(def),
    defaultValue: () => def,
    convert: (value, key) => {
      const found = values.find((v) => value.kind === 'string' && v === value.value);
      return found !== undefined ? ok(found) : fail(value.position, `${key} must be one of ${listed}, got ${describe(value)}`);
    },
  };
}

/** Checks a string setting's text; returns the reason it is wrong (completing `KEY ...`) or null. */
export type TextCheck = (text: string) => string | null;

function convertText(value: Value, key: string, check: TextCheck): Converted<string> {
  if (value.kind !== 'string') return fail(value.position, `${key} must be a string, got ${describe(value)}`);
  const reason = check(value.value);
  return reason === null ? ok(value.value) : fail(value.position, `${key} ${reason}, got ${describe(value)}`);
}

/** Builds the rule for a string setting with a default; `def` may be computed at load time. */
export function text(def: string | (() => string), defaultText: string, check: TextCheck, range = ''): Rule<string> {
  return {
    type: 'string',
    range,
    defaultText,
    defaultValue: typeof def === 'string' ? () => def : def,
    convert: (value, key) => convertText(value, key, check),
  };
}

/** Builds the rule for a string setting that is null when left out (there is no null in libconfig). */
export function optionalText(defaultText: string, check: TextCheck, range = ''): Rule<string | null> {
  return {
    type: 'string',
    range,
    defaultText,
    defaultValue: () => null,
    convert: (value, key) => convertText(value, key, check),
  };
}

/** Options of a list of strings. */
export interface ListOptions {
  /** What one item is, for messages and docs, e.g. `domain name`. */
  readonly itemName: string;
  /** @default 0 */
  readonly minItems?: number;
}

/**
 * Builds the rule for an array (or list) of strings, each parsed by `parseItem`. Every bad item
 * and every repeated item is reported with its own line.
 */
export function list<T>(def: readonly string[], parseItem: ItemParser<T>, options: ListOptions): Rule<readonly T[]> {
  const minItems = options.minItems ?? 0;
  const parseDefault = (): readonly T[] =>
    def.map((d) => {
      const r = parseItem(d);
      if (!r.ok) throw new TypeError(`Default ${JSON.stringify(d)} is invalid: ${r.reason}`);
      return r.value;
    });
  return {
    type: `array of strings (${plural(options.itemName)})`,
    range: minItems > 0 ? `at least ${minItems} item${minItems > 1 ? 's' : ''}` : '',
    defaultText: def.length === 0 ? '[ ]' : `[ ${def.map((d) => JSON.stringify(d)).join(', ')} ]`,
    defaultValue: parseDefault,
    convert: (value, key) => convertList(value, key, parseItem, options.itemName, minItems),
  };
}

/** English plural of an item name: `address` -> `addresses`, `domain name` -> `domain names`. */
function plural(name: string): string {
  return /(s|x|ch|sh)$/.test(name) ? `${name}es` : `${name}s`;
}

function convertList<T>(value: Value, key: string, parseItem: ItemParser<T>, itemName: string, minItems: number): Converted<readonly T[]> {
  if (value.kind !== 'array' && value.kind !== 'list') {
    return fail(value.position, `${key} must be an array of strings such as [ "a", "b" ], got ${describe(value)}`);
  }
  if (value.items.length < minItems) {
    return fail(value.position, `${key} must have at least ${minItems} ${itemName}${minItems > 1 ? 's' : ''}, got none`);
  }
  const problems: ValueProblem[] = [];
  const result: T[] = [];
  const seen = new Set<string>();
  for (const item of value.items) {
    if (item.kind !== 'string') {
      problems.push({ position: item.position, message: `${key} must hold only strings, got ${describe(item)}` });
      continue;
    }
    const parsed = parseItem(item.value);
    if (!parsed.ok) {
      problems.push({ position: item.position, message: `${key}: ${describe(item)} ${parsed.reason}` });
    } else if (seen.has(item.value.toLowerCase())) {
      problems.push({ position: item.position, message: `${key}: ${describe(item)} is listed twice` });
    } else {
      seen.add(item.value.toLowerCase());
      result.push(parsed.value);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : ok(result);
}
