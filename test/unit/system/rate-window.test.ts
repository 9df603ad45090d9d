// Per-address event rates over a sliding minute, with an injected clock (no waiting).
import { describe, expect, it } from 'vitest';
import { RateWindow } from '../../../src/system/rate-window.js';

function clocked() {
  const clock = { ms: 1_000_000 };
  return { clock, rate: new RateWindow({ windowMs: 60_000, now: () => clock.ms }) };
}

describe('RateWindow', () => {
  it('rate window allows `limit` events a minute per key, counting refused ones too', () => {
    const { rate } = clocked();
    expect([1, 2, 3, 4].map(() => rate.hit('a', 3))).toEqual([true, true, true, false]);
    expect(rate.hit('b', 3)).toBe(true);
  });

  it('rate window slides: the previous minute weighs by how much of it still overlaps', () => {
    const { clock, rate } = clocked();
    for (let i = 0; i < 4; i++) rate.hit('a', 4);
    clock.ms += 60_000 + 15_000; // 4 events, three quarters of whose window still overlaps: 3 + 1 new
    expect(rate.hit('a', 4)).toBe(true);
    expect(rate.hit('a', 4)).toBe(false);
    clock.ms += 45_000; // the old window has slid out; this one holds 2
    expect(rate.hit('a', 4)).toBe(true);
  });

  it('rate window keeps a hammering client refused until it slows down', () => {
    const { clock, rate } = clocked();
    for (let i = 0; i < 100; i++) rate.hit('a', 10);
    clock.ms += 61_000;
    expect(rate.hit('a', 10)).toBe(false);
    clock.ms += 60_000;
    expect(rate.hit('a', 10)).toBe(true);
  });

  it('rate window forgets keys idle for two windows', () => {
    const { clock, rate } = clocked();
    rate.hit('a', 1);
    rate.hit('b', 1);
    clock.ms += 120_000;
    rate.hit('c', 1);
    expect(rate.size).toBe(1);
  });
});
