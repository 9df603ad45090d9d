import { describe, expect, it } from 'vitest';
import { parseEnvelope, serializeEnvelope } from '../../../src/queue/envelope.js';
import { idFromLiveName, isQueueId, liveName, newQueueId, tempName } from '../../../src/queue/queue-id.js';
import { sampleEnvelope } from './fixtures.js';

function withField(field: string, value: unknown): string {
  return JSON.stringify({ ...sampleEnvelope(), [field]: value });
}

describe('envelope', () => {
  it('envelope round-trips through its JSON form', () => {
    const envelope = sampleEnvelope();
    expect(parseEnvelope(serializeEnvelope(envelope))).toEqual({ ok: true, envelope });
  });

  it('envelope keeps an expanded recipient\'s originalRecipient (optional: version 1 stands)', () => {
    const envelope = sampleEnvelope({ recipients: [{ address: 'bob@example.org', originalRecipient: 'team@example.org', status: 'pending' }] });
    expect(parseEnvelope(serializeEnvelope(envelope))).toEqual({ ok: true, envelope });
  });

  it('envelope rejects text that is not JSON', () => {
    expect(parseEnvelope('{"version": 1')).toMatchObject({ ok: false, problem: expect.stringContaining('Cannot parse JSON') });
  });

  it('envelope rejects an unknown version', () => {
    expect(parseEnvelope(withField('version', 2))).toMatchObject({ ok: false, problem: expect.stringContaining('"version"') });
  });

  it('envelope rejects bad fields with the field named', () => {
    const cases: [string, unknown, string][] = [
      ['queueId', 'short', 'queueId'],
      ['recipients', [], 'recipients'],
      ['recipients', [{ address: 'x@y', status: 'lost' }], 'recipients[0].status'],
      ['recipients', [{ address: 'x@y', originalRecipient: 5, status: 'pending' }], 'recipients[0].originalRecipient'],
      ['recipients', [{ address: 'x@y', status: 'deferred', lastReply: { code: 452, lines: [] } }], 'recipients[0].nextAttemptAt'],
      ['recipients', [{ address: 'x@y', status: 'failed', lastReply: { code: 99, lines: [] } }], 'recipients[0].lastReply.code'],
      ['arrivedAt', 'yesterday', 'arrivedAt'],
      ['attempts', -1, 'attempts'],
      ['bodyType', 'binarymime', 'bodyType'],
      ['client', { address: '1', helo: 'h', ptr: 5 }, 'client.ptr'],
      ['size', '12', 'size'],
    ];
    for (const [field, value, named] of cases) {
      const parsed = parseEnvelope(withField(field, value));
      expect(parsed.ok, named).toBe(false);
      if (!parsed.ok) expect(parsed.problem).toContain(`"${named}"`);
    }
  });

  it('envelope ignores unknown extra fields on load', () => {
    const parsed = parseEnvelope(JSON.stringify({ ...sampleEnvelope(), future: true }));
    expect(parsed).toEqual({ ok: true, envelope: sampleEnvelope() });
  });
});

describe('queue-id', () => {
  it('queue-id makes fixed-length ids from the Crockford alphabet', () => {
    const ids = new Set(Array.from({ length: 500 }, newQueueId));
    expect(ids.size).toBe(500);
    for (const id of ids) expect(isQueueId(id)).toBe(true);
    expect(isQueueId('0123456789ABCDEI')).toBe(false);
  });

  it('queue-id gives live and temp names prefixes that cannot occur in an id', () => {
    const id = newQueueId();
    expect(liveName(id)).toBe(`m.${id}`);
    expect(tempName(id)).toBe(`t.${id}`);
    expect(idFromLiveName(liveName(id))).toBe(id);
    expect(idFromLiveName(tempName(id))).toBeUndefined();
    expect(idFromLiveName('m.nonsense')).toBeUndefined();
  });
});
