// SIGHUP's reload rule: an invalid config keeps the old one, start-up-bound settings keep their running values.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/index.js';
import { reloadConfig, reloadRunning } from '../../../src/cli/reload.js';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

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

  it('reload reads the aliases file again, and a bad one abandons the whole reload', () => {
    const aliases = path.join(dir, 'aliases');
    writeFileSync(file, `server = { max_recipients = 9; };\nmaildir = { aliases = "${aliases}"; };\n`);
    writeFileSync(aliases, 'team: alice, bob\n');
    const old = { config: defaultConfig(), aliases: [], tlsKeys: null };
    const next = reloadRunning(file, old, capture().logger);
    expect(next?.config.server.maxRecipients).toBe(9);
    expect(next?.aliases).toEqual([{ name: 'team', targets: ['alice', 'bob'], file: aliases, line: 1 }]);
    writeFileSync(aliases, 'a: b\nb: a\n');
    const { logger, lines } = capture();
    expect(reloadRunning(file, old, logger)).toBeUndefined();
    expect(lines.filter((l) => l.level === 50).map((l) => l.problem)).toEqual([`${aliases}:1: alias "a" loops: a -> b -> a`, `${aliases}:2: alias "b" loops: b -> a -> b`]);
  });

  it('reload on the embedded default has nothing to read', () => {
    expect(reloadConfig(null, defaultConfig(), capture().logger)).toBeUndefined();
  });
});
