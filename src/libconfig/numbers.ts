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
 * `'octal'` for a `0o`/`0q` literal with an 8 or 9 in it.
 */
export function parseIntegerText(text: string): NumberToken | 'range' | 'octal' {
  const hasSuffix = text.endsWith('L');
  const body = text.replace(/L+$/, '');
  const radixPrefix = body.slice(0, 2).toLowerCase();
  if (radixPrefix === '0x' || radixPrefix === '0b' || radixPrefix === '0o' || radixPrefix === '0q') {
    // Hex, binary and octal are unsigned: up to 32 bits they wrap into an int (0xFFFFFFFF is
    // -1), beyond that they become an int64, beyond 64 bits they are an error (1.8.1 ChangeLog).
    // Octal (`0o`/`0q`) follows the project's spec of 1.8; `0q` is another spelling of `0o`.
    if ((radixPrefix === '0o' || radixPrefix === '0q') && /[89]/.test(body)) return 'octal';
    const value = BigInt(radixPrefix === '0q' ? `0o${body.slice(2)}` : body);
    if (value > UINT64_MAX) return 'range';
    if (!hasSuffix && value <= UINT32_MAX) return { kind: 'int', value: Number(BigInt.asIntN(32, value)) };
    return { kind: 'int64', value: BigInt.asIntN(64, value) };
  }
  // A decimal is base 10 even with leading zeros (`010` is 10), as in Debian's 1.5 and the
  // project's spec of 1.8; C's octal reading of a leading zero is not used.
  const value = BigInt(body);
  if (value < INT64_MIN || value > INT64_MAX) return 'range';
  if (!hasSuffix && value >= INT32_MIN && value <= INT32_MAX) return { kind: 'int', value: Number(value) };
  return { kind: 'int64', value };
}

/** Converts the text of a float token as C's atof does (`.` and `-.` are zero). */
export function parseFloatText(text: string): number {
  const mantissa = text.split(/[eE]/)[0] ?? '';
  if (!/[0-9]/.test(mantissa)) return 0;
  // Number() rejects "1." and ".5e3"-style forms only when digits are missing; pad them.
  const normal = text.replace(/\.(?=[eE]|$)/, '.0').replace(/^([-+]?)\./, '$10.');
  return Number(normal);
}
