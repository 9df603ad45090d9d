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
});
