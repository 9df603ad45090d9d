// Several relay workers: each destination has one owner, recipients reach the owner of their
// destination in one batch, outcomes come back in order, and an answer that is missing or
// malformed defers the batch.
import { describe, expect, it, vi } from 'vitest';
import { DestinationSplit, ownerOf, parseRequest, type RecipientDeliverer, RemoteWorker } from '../../../src/relay/split.js';
import type { RecipientOutcome } from '../../../src/relay/transaction.js';

const message = { queueId: 'Q1', reversePath: 'a@example.org', dataPath: '/q/Q1', bodyType: '8bitmime' as const, sizeBytes: 10 };
const ok = (r: string): RecipientOutcome => ({ kind: 'delivered', reply: { code: 250, enhancedCode: '2.0.0', lines: [r] } });

/** A worker that records its batches and delivers everything. */
function recording(batches: string[][]): RecipientDeliverer {
  return { deliver: async (_m, recipients) => (batches.push([...recipients]), recipients.map(ok)) };
}

describe('DestinationSplit', () => {
  it('ownerOf is stable and spreads destinations over every worker', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `domain${i}.test`);
    const owners = keys.map((k) => ownerOf(k, 4));
    expect(keys.map((k) => ownerOf(k, 4))).toEqual(owners);
    expect(new Set(owners)).toEqual(new Set([0, 1, 2, 3]));
    expect(keys.every((k) => ownerOf(k, 1) === 0)).toBe(true);
  });

  it('split sends each recipient to the owner of its destination and returns outcomes in order', async () => {
    const batches: string[][][] = [[], []];
    const split = new DestinationSplit([recording(batches[0] as string[][]), recording(batches[1] as string[][])], (d) => d);
    const domains = Array.from({ length: 20 }, (_, i) => `d${i}.test`);
    const recipients = domains.flatMap((d) => [`x@${d}`, `y@${d.toUpperCase()}`]);
    const outcomes = await split.deliver(message, recipients);
    expect(outcomes.map((o) => o.reply.lines[0])).toEqual(recipients);
    for (const [worker, seen] of batches.entries()) {
      expect(seen).toHaveLength(1); // one batch per worker
      for (const r of seen[0] ?? []) expect(ownerOf(r.slice(r.indexOf('@') + 1).toLowerCase(), 2)).toBe(worker);
    }
  });

  it('split keys destinations by what the caller says: one next hop for all domains is one owner', async () => {
    const batches: string[][][] = [[], [], []];
    const split = new DestinationSplit(batches.map((b) => recording(b)), () => '[192.0.2.1]:25');
    await split.deliver(message, ['a@one.test', 'b@two.test', 'c@three.test']);
    expect(batches.filter((b) => b.length > 0)).toEqual([[['a@one.test', 'b@two.test', 'c@three.test']]]);
  });
});

describe('RemoteWorker', () => {
  it('remote worker sends the job as data and returns the checked answer', async () => {
    const asked: unknown[] = [];
    const worker = new RemoteWorker(async (job) => (asked.push(job), [ok('r@x.test')]));
    expect(await worker.deliver(message, ['r@x.test'])).toEqual([ok('r@x.test')]);
    expect(parseRequest(asked[0])).toEqual({ message, recipients: ['r@x.test'] });
  });

  it('remote worker defers the batch when no answer or a malformed one comes back', async () => {
    for (const answer of [undefined, [{ kind: 'delivered' }], [ok('a'), ok('b')], 'nonsense']) {
      const outcomes = await new RemoteWorker(async () => answer).deliver(message, ['r@x.test']);
      expect(outcomes).toEqual([{ kind: 'transient', reply: expect.objectContaining({ code: 451, enhancedCode: '4.3.0' }) }]);
    }
  });

  it('split passes forgetFailures on to every worker, and a remote one asks for it', async () => {
    const asked: unknown[] = [];
    const local = { deliver: async () => [], forgetFailures: vi.fn() };
    const split = new DestinationSplit([local, new RemoteWorker(async (request) => (asked.push(request), true))], (d) => d);
    split.forgetFailures();
    expect(local.forgetFailures).toHaveBeenCalledOnce();
    expect(asked.map(parseRequest)).toEqual([{ forgetFailures: true }]);
  });

  it('parseRequest refuses what is not a job', () => {
    expect(parseRequest({ message: { queueId: 1 }, recipients: [] })).toBeUndefined();
    expect(parseRequest(null)).toBeUndefined();
  });
});
