import { describe, expect, it } from 'vitest';
import { formatG, formatShortestG } from '../../../src/libconfig/json.js';

// Expected texts are glibc printf's (and Python's `%` operator, which agrees with it).
describe('formatG', () => {
  it.each([
    [2.5, 1, '2'],
    [3.5, 1, '4'],
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    // An exact tie at 17 digits that fast-check found: toFixed would give …713.13.
    [-527193817223713.125, 17, '-527193817223713.12'],
    [99.95, 3, '100'],
    [99.95, 17, '99.950000000000003'],
    [9.5, 1, '1e+01'],
    [1200, 3, '1.2e+03'],
    [1200, 17, '1200'],
    [0.0001, 6, '0.0001'],
    [0.00001, 6, '1e-05'],
    [5e-324, 17, '4.9406564584124654e-324'],
    [1.7976931348623157e308, 1, '2e+308'],
    [-0, 6, '-0'],
    [0, 17, '0'],
  ])('%s with %%.%ig is %s', (value, precision, text) => {
    expect(formatG(value, precision)).toBe(text);
  });

  it('gives the shortest text that reads back', () => {
    expect(formatShortestG(0.1)).toBe('0.1');
    expect(formatShortestG(5e-324)).toBe('5e-324');
    expect(formatShortestG(1 / 3)).toBe('0.3333333333333333');
  });
});
