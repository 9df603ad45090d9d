// Group commit: callers share directory fsyncs, yet each one's fsync starts after its call.
import { describe, expect, it } from 'vitest';
import { groupSync } from '../../../src/fsio/directory-sync.js';

/** A fake fsync the test finishes by hand; records when each one started, in calls made so far. */
function manualFsync() {
  const runs: { dir: string; startedAfterCalls: number; finish: (err?: Error) => void }[] = [];
  let calls = 0;
  const sync = groupSync(
    (dir) =>
      new Promise<void>((resolve, reject) => {
        runs.push({ dir, startedAfterCalls: calls, finish: (err) => (err ? reject(err) : resolve()) });
      }),
  );
  return { runs, call: (dir: string) => (calls++, sync(dir)) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('groupSync', () => {
  it('groupSync runs one fsync for the callers that arrive while another runs, started after the last of them', async () => {
    const { runs, call } = manualFsync();
    const first = call('/m/new');
    const later = [call('/m/new'), call('/m/new'), call('/m/new')];
    expect(runs).toHaveLength(1);
    runs[0]?.finish();
    await first;
    await tick();
    expect(runs).toHaveLength(2);
    expect(runs[1]?.startedAfterCalls).toBe(4);
    runs[1]?.finish();
    await Promise.all(later);
    expect(runs).toHaveLength(2);
  });

  it('groupSync keeps directories apart and reports a failed fsync to the callers it covers only', async () => {
    const { runs, call } = manualFsync();
    const a = call('/a/new');
    const b = call('/b/new');
    expect(runs.map((r) => r.dir)).toEqual(['/a/new', '/b/new']);
    const waiting = call('/a/new');
    runs[0]?.finish(new Error('EIO'));
    await expect(a).rejects.toThrow('EIO');
    await tick();
    runs[2]?.finish();
    await expect(waiting).resolves.toBeUndefined();
    runs[1]?.finish();
    await expect(b).resolves.toBeUndefined();
  });
});
