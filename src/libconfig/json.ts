// Canonical one-line JSON of a parsed tree, the format of `mta config --json` and of the
// reference dumper in test/helpers/libconfig-ref: floats are printed as C's printf would.

import type { GroupValue, Value } from './types.js';

const SAFE_LIMIT = 2n ** 53n;

/**
 * Formats a double as C's `%.{precision}g` does: at most `precision` significant digits,
 * exponent form when the exponent is below -4 or not below the precision, no trailing zeros.
 * Digits come from the double's exact decimal value, and an exact tie rounds to even as glibc
 * does; `toFixed`/`toExponential` would round such a tie away from zero.
 */
export function formatG(value: number, precision: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const { digits, exponent } = roundSignificant(exactDecimal(Math.abs(value)), precision);
  if (exponent >= -4 && exponent < precision) {
    const [integer, fraction] =
      exponent < 0
        ? ['0', '0'.repeat(-exponent - 1) + digits]
        : [digits.slice(0, exponent + 1).padEnd(exponent + 1, '0'), digits.slice(exponent + 1)];
    return sign + stripZeros(fraction === '' ? integer : `${integer}.${fraction}`);
  }
  const mantissa = stripZeros(`${digits[0]}.${digits.slice(1)}`);
  const expDigits = String(Math.abs(exponent)).padStart(2, '0');
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${expDigits}`;
}

/** A decimal number: `digits` (no leading zero unless zero) × 10^(exponent + 1 - digits.length). */
interface Decimal {
  digits: string;
  exponent: number;
}

// A double is mantissa × 2^e exactly; with e < 0 that is mantissa × 5^-e / 10^-e.
function exactDecimal(abs: number): Decimal {
  if (abs === 0) return { digits: '0', exponent: 0 };
  const bits = new BigUint64Array(new Float64Array([abs]).buffer)[0] ?? 0n;
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = (biased === 0 ? 1 : biased) - 1075;
  const [integer, scale] = e >= 0 ? [mantissa << BigInt(e), 0] : [mantissa * 5n ** BigInt(-e), -e];
  const digits = integer.toString();
  return { digits, exponent: digits.length - 1 - scale };
}

function roundSignificant({ digits, exponent }: Decimal, precision: number): Decimal {
  if (digits.length <= precision) return { digits, exponent };
  const kept = BigInt(digits.slice(0, precision));
  const rest = digits.slice(precision);
  const half = `5${'0'.repeat(rest.length - 1)}`;
  const roundUp = rest > half || (rest === half && kept % 2n === 1n);
  const rounded = (roundUp ? kept + 1n : kept).toString();
  // 99.9 rounding up to 100 gains a digit: drop it and move the exponent.
  return rounded.length > precision
    ? { digits: rounded.slice(0, precision), exponent: exponent + 1 }
    : { digits: rounded, exponent };
}

function stripZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0*$/, '') : fixed;
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
