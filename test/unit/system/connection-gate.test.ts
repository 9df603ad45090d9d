// The supervisor's global connection gate: max_connections and max_connections_per_ip across workers.
import { describe, expect, it } from 'vitest';
import { ConnectionGate } from '../../../src/system/connection-gate.js';

describe('ConnectionGate', () => {
  it('gate refuses beyond max_connections and max_connections_per_ip, and frees on release', () => {
    const gate = new ConnectionGate({ maxConnections: 3, maxConnectionsPerIp: 2 });
    const a = gate.admit('127.0.0.1');
    expect(gate.admit('::ffff:127.0.0.1')).toBeDefined();
    expect(gate.admit('127.0.0.1')).toBeUndefined();
    expect(gate.admit('::1')).toBeDefined();
    expect(gate.admit('::2')).toBeUndefined();
    gate.release(a as number);
    expect(gate.admit('127.0.0.1')).toBeDefined();
  });

  it('gate releases every connection of a dead worker', () => {
    const gate = new ConnectionGate({ maxConnections: 2, maxConnectionsPerIp: 2 });
    const worker = {};
    gate.assign(gate.admit('10.0.0.1') as number, worker);
    gate.assign(gate.admit('10.0.0.1') as number, worker);
    expect(gate.admit('10.0.0.2')).toBeUndefined();
    gate.releaseOwner(worker);
    expect(gate.size).toBe(0);
  });

  it('gate counts new connections and messages per address per minute, IPv4-mapped as IPv4, exempting some networks', () => {
    const clock = { ms: 0 };
    const limits = { maxConnections: 100, maxConnectionsPerIp: 100, maxConnectionRate: 2, maxMessageRate: 1, isRateExempt: (a: string) => a === '10.0.0.9' };
    const gate = new ConnectionGate(limits, { now: () => clock.ms });
    expect(['192.0.2.1', '::ffff:192.0.2.1', '192.0.2.1'].map((a) => gate.isWithinConnectionRate(a))).toEqual([true, true, false]);
    expect(gate.isWithinConnectionRate('192.0.2.2')).toBe(true);
    expect([1, 2, 3].map(() => gate.isWithinConnectionRate('10.0.0.9'))).toEqual([true, true, true]);
    expect([1, 2].map(() => gate.isWithinMessageRate('::ffff:192.0.2.1'))).toEqual([true, false]);
    clock.ms += 120_000;
    expect(gate.isWithinConnectionRate('192.0.2.1')).toBe(true);
  });

  it('gate applies no rate when the limit is 0', () => {
    const gate = new ConnectionGate({ maxConnections: 1, maxConnectionsPerIp: 1 });
    expect(Array.from({ length: 1000 }, () => gate.isWithinConnectionRate('192.0.2.1') && gate.isWithinMessageRate('192.0.2.1')).every(Boolean)).toBe(true);
  });
});
