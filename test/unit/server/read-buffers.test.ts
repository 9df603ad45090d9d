import { afterEach, describe, expect, it, vi } from 'vitest';

describe('countRead', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('asks for a young-generation collection once per 2 MiB read across calls, and only then', async () => {
    const gc = vi.fn();
    vi.stubGlobal('gc', gc);
    const { countRead } = await import('../../../src/server/read-buffers.js');
    for (let i = 0; i < 31; i++) countRead(64 * 1024);
    expect(gc).not.toHaveBeenCalled();
    countRead(64 * 1024);
    expect(gc).toHaveBeenCalledTimes(1);
    expect(gc).toHaveBeenCalledWith({ type: 'minor', execution: 'sync' });
    for (let i = 0; i < 32; i++) countRead(64 * 1024);
    expect(gc).toHaveBeenCalledTimes(2);
  });

  it('does nothing without an exposed collector', async () => {
    vi.stubGlobal('gc', undefined);
    const { countRead } = await import('../../../src/server/read-buffers.js');
    expect(() => countRead(64 * 1024 * 1024)).not.toThrow();
  });
});
