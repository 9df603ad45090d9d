// SIGHUP's reload rule: an invalid config keeps the old one, start-up-bound settings keep their running values.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/index.js';
import { reloadConfig } from '../../../src/cli/reload.js';

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

  it('reload on the embedded default has nothing to read', () => {
    expect(reloadConfig(null, defaultConfig(), capture().logger)).toBeUndefined();
  });
});
