// Canonical one-line JSON of a parsed tree, the format of `mta config --json` and of the
// reference dumper in test/helpers/libconfig-ref: floats are printed as C's printf would.

import type { GroupValue, Value } from './types.js';

const SAFE_LIMIT = 2n ** 53n;

/**
 * Formats a double as C's `%.{precision}g` does: at most `precision` significant digits,
 * exponent form when the exponent is below -4 or not below the precision, no trailing zeros.
 */
export function formatG(value: number, precision: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const abs = Math.abs(value);
  const exponential = abs.toExponential(precision - 1);
  const exponent = Number(exponential.slice(exponential.indexOf('e') + 1));
  if (exponent >= -4 && exponent < precision) {
    return sign + stripZeros(abs.toFixed(precision - 1 - exponent));
  }
  const [mantissa = '', exp = ''] = exponential.split('e');
  const expDigits = exp.replace(/^[-+]/, '').padStart(2, '0');
  return `${sign}${stripZeros(mantissa)}e${exp.startsWith('-') ? '-' : '+'}${expDigits}`;
}

function stripZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Formats the shortest `%g` text (1 to 17 digits) that reads back as the same double. */
export function formatShortestG(value: number): string {
  for (let precision = 1; precision < 17; precision++) {
    const text = formatG(value, precision);
    if (Number(text) === value) return text;
  }
  return formatG(value, 17);
}

// A setting's float is printed with %.17g, an element's with the shortest %g: that is what
// the corpus's .expected files hold. Either way it keeps a fraction (`1.0`); infinity, which
// JSON cannot spell, becomes 1e999, which JSON.parse reads back as Infinity.
function formatFloat(value: number, isElement: boolean): string {
  if (!Number.isFinite(value)) return value > 0 ? '1e999' : '-1e999';
  const text = isElement ? formatShortestG(value) : formatG(value, 17);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

function toJSON(value: Value, isElement: boolean): string {
  switch (value.kind) {
    case 'group':
      return `{${value.settings.map((s) => `${JSON.stringify(s.name)}:${toJSON(s.value, false)}`).join(',')}}`;
    case 'array':
    case 'list':
      return `[${value.items.map((item: Value) => toJSON(item, true)).join(',')}]`;
    case 'int':
    case 'bool':
      return String(value.value);
    case 'int64': {
      const v = value.value;
      return v > SAFE_LIMIT || v < -SAFE_LIMIT ? `"${v}"` : String(v);
    }
    case 'float':
      return formatFloat(value.value, isElement);
    case 'string':
      return JSON.stringify(value.value);
  }
}

/** Renders a parsed tree as canonical one-line JSON (objects keep file order). */
export function toJSONText(root: GroupValue): string {
  return toJSON(root, false);
}
