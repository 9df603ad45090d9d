// Queue ids: unique, well formed.
import { describe, expect, it } from 'vitest';
import { isQueueId, newQueueId } from '../../../src/queue/queue-id.js';

describe('newQueueId', () => {
  it('newQueueId makes distinct well-formed ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newQueueId()));
    expect(ids.size).toBe(1000);
    expect([...ids].every(isQueueId)).toBe(true);
  });
});
