// Number literals as libconfig 1.8 reads them: which integers are 32-bit, which 64-bit, which
// out of range, and the value of a float. Pure functions over the matched token text.

/** An integer token: `int` fits in 32 bits, `int64` was promoted or carried an `L` suffix. */
export type NumberToken =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'int64'; readonly value: bigint };

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Converts the text of an integer token, or says why it cannot: `'range'` beyond 64 bits,
 * `'octal'` for a leading-zero literal with an 8 or 9 in it.
 */
export function parseIntegerText(text: string): NumberToken | 'range' | 'octal' {
  const hasSuffix = text.endsWith('L');
  const body = text.replace(/L+$/, '');
  const radixPrefix = body.slice(0, 2).toLowerCase();
  if (radixPrefix === '0x' || radixPrefix === '0b') {
    // Hex and binary are unsigned: up to 32 bits they wrap into an int (0xFFFFFFFF is -1),
    // beyond that they become an int64, beyond 64 bits they are an error (1.8.1 ChangeLog).
    const value = BigInt(body);
    if (value > UINT64_MAX) return 'range';
    if (!hasSuffix && value <= UINT32_MAX) return { kind: 'int', value: Number(BigInt.asIntN(32, value)) };
    return { kind: 'int64', value: BigInt.asIntN(64, value) };
  }
  const value = parseDecimalOrOctal(body);
  if (typeof value === 'string') return value;
  if (value < INT64_MIN || value > INT64_MAX) return 'range';
  if (!hasSuffix && value >= INT32_MIN && value <= INT32_MAX) return { kind: 'int', value: Number(value) };
  return { kind: 'int64', value };
}

// libconfig reads decimals with strtoll(s, NULL, 0): a leading zero means octal, as in C.
function parseDecimalOrOctal(body: string): bigint | 'octal' {
  const sign = body.startsWith('-') ? -1n : 1n;
  const digits = body.replace(/^[-+]/, '');
  if (digits.length > 1 && digits.startsWith('0')) {
    if (/[89]/.test(digits)) return 'octal';
    return sign * BigInt(`0o${digits}`);
  }
  return sign * BigInt(digits);
}

/** Converts the text of a float token as C's atof does (`.` and `-.` are zero). */
export function parseFloatText(text: string): number {
  const mantissa = text.split(/[eE]/)[0] ?? '';
  if (!/[0-9]/.test(mantissa)) return 0;
  // Number() rejects "1." and ".5e3"-style forms only when digits are missing; pad them.
  const normal = text.replace(/\.(?=[eE]|$)/, '.0').replace(/^([-+]?)\./, '$10.');
  return Number(normal);
}
