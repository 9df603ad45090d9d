// Builds libconfig trees by hand for validation tests: one setting per line, numbered from 1 in
// the order written, so a test can name the line a problem must be reported on.

import type { GroupValue, Position, ScalarValue, Setting, Value } from '../../../src/libconfig/types.js';

/** A setting's value as a test writes it; `{ float: n }` forces a float, bigints are int64. */
export type Spec = string | number | bigint | boolean | { float: number } | readonly Spec[] | { readonly [name: string]: Spec };

function isScalar(v: Value): v is ScalarValue {
  return v.kind !== 'group' && v.kind !== 'array' && v.kind !== 'list';
}

class Builder {
  private line = 0;
  constructor(private readonly file: string) {}

  group(spec: { readonly [name: string]: Spec }, position: Position): GroupValue {
    const settings: Setting[] = Object.entries(spec).map(([name, value]) => {
      const at = this.next();
      return { name, value: this.value(value, at), position: at };
    });
    return { kind: 'group', settings, position };
  }

  private next(): Position {
    this.line += 1;
    return { file: this.file, line: this.line };
  }

  private value(spec: Spec, position: Position): Value {
    if (typeof spec === 'string') return { kind: 'string', value: spec, position };
    if (typeof spec === 'boolean') return { kind: 'bool', value: spec, position };
    if (typeof spec === 'bigint') return { kind: 'int64', value: spec, position };
    if (typeof spec === 'number') return Number.isInteger(spec) ? { kind: 'int', value: spec, position } : { kind: 'float', value: spec, position };
    if (Array.isArray(spec)) {
      const items = (spec as readonly Spec[]).map((item) => this.value(item, position));
      return items.every(isScalar) ? { kind: 'array', items, position } : { kind: 'list', items, position };
    }
    if ('float' in spec && typeof spec.float === 'number') return { kind: 'float', value: spec.float, position };
    return this.group(spec as { readonly [name: string]: Spec }, position);
  }
}

/** Builds the root group of a document; settings get lines 1, 2, 3... in the order written. */
export function tree(spec: { readonly [name: string]: Spec }, file = 'mta.conf'): GroupValue {
  return new Builder(file).group(spec, { file, line: 1 });
}
