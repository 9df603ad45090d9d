import { describe, expect, it } from 'vitest';
import { afterTransientFailure, backoffMs, dueRecipients, isFinished, nextWakeMs } from '../../../src/queue/scheduler.js';
import { sampleEnvelope } from './fixtures.js';

const options = { retryMinIntervalMs: 300_000, retryMaxIntervalMs: 3_600_000, maxQueueLifetimeMs: 432_000_000 };
const arrived = Date.parse('2025-01-02T03:04:05.000Z');

describe('scheduler', () => {
  it('scheduler doubles the delay from retry_min_interval up to retry_max_interval', () => {
    expect([1, 2, 3, 4, 5, 6, 100].map((n) => backoffMs(n, options))).toEqual([
      300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
  });

  it('scheduler retries after the backoff while the message is young', () => {
    expect(afterTransientFailure(2, arrived, arrived + 1000, options)).toEqual({ kind: 'retry', atMs: arrived + 1000 + 600_000 });
  });

  it('scheduler pulls the last retry in to the end of max_queue_lifetime', () => {
    const now = arrived + options.maxQueueLifetimeMs - 60_000;
    expect(afterTransientFailure(20, arrived, now, options)).toEqual({ kind: 'retry', atMs: arrived + options.maxQueueLifetimeMs });
  });

  it('scheduler gives up once max_queue_lifetime has passed', () => {
    expect(afterTransientFailure(20, arrived, arrived + options.maxQueueLifetimeMs, options)).toEqual({ kind: 'give-up' });
  });

  it('scheduler finds due recipients among those handled', () => {
    const envelope = sampleEnvelope();
    const due = Date.parse('2025-01-02T03:09:05.000Z');
    expect(dueRecipients(envelope, due - 1, () => true)).toEqual([]);
    expect(dueRecipients(envelope, due, () => true).map((r) => r.address)).toEqual(['c@example.org']);
    expect(dueRecipients(envelope, due, (a) => a.endsWith('@remote.test'))).toEqual([]);
  });

  it('scheduler wakes at the earliest deferred recipient', () => {
    const a = sampleEnvelope();
    const b = sampleEnvelope({
      recipients: [{ address: 'x@example.org', status: 'deferred', lastReply: { code: 451, lines: ['x'] }, nextAttemptAt: '2025-01-02T03:05:00.000Z' }],
    });
    expect(nextWakeMs([a, b], () => true)).toBe(Date.parse('2025-01-02T03:05:00.000Z'));
    expect(nextWakeMs([a, b], () => false)).toBeUndefined();
  });

  it('scheduler calls a message finished when every recipient is delivered or failed', () => {
    expect(isFinished(sampleEnvelope())).toBe(false);
    expect(isFinished(sampleEnvelope({ recipients: sampleEnvelope().recipients.slice(1, 2) }))).toBe(true);
  });
});
