// Queue ids and their partition among relay workers.
import { describe, expect, it } from 'vitest';
import { isQueueId, newQueueId, partitionOf } from '../../../src/queue/queue-id.js';

describe('newQueueId', () => {
  it('newQueueId makes distinct well-formed ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newQueueId()));
    expect(ids.size).toBe(1000);
    expect([...ids].every(isQueueId)).toBe(true);
  });
});

describe('partitionOf', () => {
  it('partitionOf gives every queue id one stable owner and uses every partition', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `Q${i.toString(36).toUpperCase()}X`);
    const owners = ids.map((id) => partitionOf(id, 4));
    expect(ids.map((id) => partitionOf(id, 4))).toEqual(owners);
    expect(new Set(owners)).toEqual(new Set([0, 1, 2, 3]));
    expect(ids.every((id) => partitionOf(id, 1) === 0)).toBe(true);
  });
});
