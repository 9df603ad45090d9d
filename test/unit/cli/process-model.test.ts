// The supervisor's pure parts: the global connection gate, the partition of the queue among relay
// workers, and the reload rule that start-up-bound settings keep their running values.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/index.js';
import { ConnectionGate } from '../../../src/cli/connection-gate.js';
import { partitionOf } from '../../../src/cli/ipc.js';
import { reloadConfig } from '../../../src/cli/reload.js';
import pino from 'pino';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

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

describe('partitionOf', () => {
  it('partitionOf gives every queue id one stable owner and uses every partition', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `Q${i.toString(36).toUpperCase()}X`);
    const owners = ids.map((id) => partitionOf(id, 4));
    expect(ids.map((id) => partitionOf(id, 4))).toEqual(owners);
    expect(new Set(owners)).toEqual(new Set([0, 1, 2, 3]));
    expect(ids.every((id) => partitionOf(id, 1) === 0)).toBe(true);
  });
});

describe('reloadConfig', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-reload-'));
  const file = path.join(dir, 'mta.conf');

  it('reload logs every problem of an invalid config and keeps the old one', () => {
    writeFileSync(file, 'max_bogus = 1;\nshutdown_timeout = "soon";\n');
    const { logger, lines } = capture();
    expect(reloadConfig(file, defaultConfig(), logger)).toBeUndefined();
    expect(lines.filter((l) => l.level === 50)).toHaveLength(2);
  });

  it('reload applies limits and keeps start-up-bound settings, logging each one', () => {
    writeFileSync(file, 'server = { listen = [ "127.0.0.1:2525" ]; max_recipients = 7; workers = 5; };\nqueue = { root = "/elsewhere"; };\n');
    const { logger, lines } = capture();
    const old = defaultConfig();
    const next = reloadConfig(file, old, logger);
    expect(next?.server.maxRecipients).toBe(7);
    expect(next?.server.listen).toEqual(old.server.listen);
    expect(next?.server.workers).toBe(old.server.workers);
    expect(next?.queue.root).toBe(old.queue.root);
    expect(lines.filter((l) => l.level === 40).map((l) => l.setting)).toEqual(['server.listen', 'server.workers', 'queue.root']);
  });

  it('reload on the embedded default has nothing to read', () => {
    expect(reloadConfig(null, defaultConfig(), capture().logger)).toBeUndefined();
  });
});
