// The minimum data rate's deadline (Postfix's smtpd_min_data_rate), with the time passed in.
import { describe, expect, it } from 'vitest';
import { DataPace } from '../../../src/server/data-pace.js';

describe('DataPace', () => {
  it('data pace gives an idle client data_block, as a plain timeout', () => {
    const pace = new DataPace(1000, 2000, 0);
    expect(pace.remaining(500)).toEqual({ ms: 1500, isIdle: true });
    expect(pace.credit(10, 2000)).toBe(false);
  });

  it('data pace keeps a client at the rate or faster at data_block from its last read', () => {
    const pace = new DataPace(1000, 2000, 0);
    for (let t = 100; t <= 10_000; t += 100) expect(pace.credit(100, t)).toBe(true); // exactly 1000 B/s
    expect(pace.remaining(10_000)).toEqual({ ms: 2000, isIdle: true });
  });

  it('data pace runs out for a drip below the rate, however often it writes', () => {
    const pace = new DataPace(1000, 2000, 0);
    let t = 0;
    // 10 bytes every 100 ms is 100 B/s: each read buys 10 ms and costs 100 ms.
    while (pace.credit(10, (t += 100))) expect(t).toBeLessThan(3000);
    expect(t).toBe(2300);
    const later = new DataPace(1000, 2000, 0);
    later.credit(10, 100);
    expect(later.remaining(100)).toEqual({ ms: 1910, isIdle: false });
  });

  it('data pace does not charge the client for the server\'s own time', () => {
    const pace = new DataPace(1000, 2000, 0);
    pace.excuse(5000);
    expect(pace.credit(1, 6000)).toBe(true);
  });
});
