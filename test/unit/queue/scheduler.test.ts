import { describe, expect, it } from 'vitest';
import { afterTransientFailure, backoffMs, isDue, messageDueAtMs, recordOutcome } from '../../../src/queue/scheduler.js';
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

  it('scheduler counts never-tried recipients as due now and deferred ones at their retry time', () => {
    const envelope = sampleEnvelope();
    const due = Date.parse('2025-01-02T03:09:05.000Z');
    expect(envelope.recipients.filter((r) => isDue(r, due - 1)).map((r) => r.address)).toEqual(['a@remote.test']);
    expect(envelope.recipients.filter((r) => isDue(r, due)).map((r) => r.address)).toEqual(['a@remote.test', 'c@example.org']);
    expect(isDue({ address: 'p@example.org', status: 'pending' }, 0)).toBe(true);
  });

  it('scheduler finds when a message is next due among the recipients handled', () => {
    const envelope = sampleEnvelope({
      recipients: [
        { address: 'x@example.org', status: 'deferred', lastReply: { code: 451, lines: ['x'] }, nextAttemptAt: '2025-01-02T03:05:00.000Z' },
        { address: 'y@remote.test', status: 'pending' },
      ],
    });
    expect(messageDueAtMs(envelope, (a) => a.endsWith('@example.org'))).toBe(Date.parse('2025-01-02T03:05:00.000Z'));
    expect(messageDueAtMs(envelope, () => true)).toBe(0);
    expect(messageDueAtMs(envelope, () => false)).toBeUndefined();
  });

  it('scheduler records a transient failure as deferred while young and as failed past max_queue_lifetime', () => {
    const reply = { code: 451, enhancedCode: '4.3.0', lines: ['later'] };
    const young = recordOutcome('a@example.org', { kind: 'transient', reply }, { attempts: 1, arrivedAtMs: arrived, nowMs: arrived, retry: options });
    expect(young).toEqual({ address: 'a@example.org', status: 'deferred', lastReply: reply, nextAttemptAt: new Date(arrived + 300_000).toISOString() });
    const old = recordOutcome('a@example.org', { kind: 'transient', reply }, { attempts: 9, arrivedAtMs: arrived, nowMs: arrived + options.maxQueueLifetimeMs, retry: options });
    expect(old).toEqual({ address: 'a@example.org', status: 'failed', lastReply: reply });
  });

  it('scheduler records delivered and permanent outcomes as final', () => {
    const at = { attempts: 1, arrivedAtMs: arrived, nowMs: arrived + 5, retry: options };
    expect(recordOutcome('a@example.org', { kind: 'delivered' }, at)).toEqual({ address: 'a@example.org', status: 'delivered', deliveredAt: new Date(arrived + 5).toISOString() });
    const reply = { code: 550, enhancedCode: '5.1.1', lines: ['no'] };
    expect(recordOutcome('a@example.org', { kind: 'permanent', reply }, at)).toEqual({ address: 'a@example.org', status: 'failed', lastReply: reply });
  });

  it('scheduler keeps the originalRecipient of a recipient it records, and nothing else of its old status', () => {
    const at = { attempts: 2, arrivedAtMs: arrived, nowMs: arrived + 5, retry: options };
    const reply = { code: 451, enhancedCode: '4.3.0', lines: ['later'] };
    const before = { address: 'bob@example.org', originalRecipient: 'team@example.org', status: 'deferred', lastReply: reply, nextAttemptAt: '2025-01-02T04:00:00.000Z' } as const;
    expect(recordOutcome(before, { kind: 'delivered' }, at)).toEqual({ address: 'bob@example.org', originalRecipient: 'team@example.org', status: 'delivered', deliveredAt: new Date(arrived + 5).toISOString() });
    const plain = { address: 'a@example.org', status: 'pending' } as const;
    expect(recordOutcome(plain, { kind: 'delivered' }, at)).not.toHaveProperty('originalRecipient');
  });
});
