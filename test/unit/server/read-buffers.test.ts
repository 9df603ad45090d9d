import { describe, expect, it, vi } from 'vitest';
import { ReadBufferCollector } from '../../../src/server/read-buffers.js';

const CHUNK = 64 * 1024;

describe('ReadBufferCollector', () => {
  it('looks once per 2 MiB read and forces a young collection when none ran since the last look', () => {
    const collect = vi.fn();
    let used = 100;
    const collector = new ReadBufferCollector(collect, () => used);
    for (let i = 0; i < 31; i++) collector.countRead(CHUNK);
    expect(collect).not.toHaveBeenCalled();
    collector.countRead(CHUNK);
    expect(collect).toHaveBeenCalledTimes(1);
    expect(collect).toHaveBeenCalledWith({ type: 'minor', execution: 'sync' });
    used = 300; // only grew: nothing collected meanwhile
    for (let i = 0; i < 32; i++) collector.countRead(CHUNK);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it('leaves it to V8 when the young generation was collected since the last look', () => {
    const collect = vi.fn();
    let used = 500;
    const collector = new ReadBufferCollector(collect, () => used);
    for (let i = 0; i < 32; i++) collector.countRead(CHUNK);
    expect(collect).toHaveBeenCalledTimes(1);
    used = 200; // shrank: a scavenge ran
    for (let i = 0; i < 32; i++) collector.countRead(CHUNK);
    expect(collect).toHaveBeenCalledTimes(1);
  });

  it('does nothing without an exposed collector', () => {
    const collector = new ReadBufferCollector(undefined, () => 0);
    expect(() => collector.countRead(64 * 1024 * 1024)).not.toThrow();
  });
});
