// Workers start with the same V8 flags whether mta runs as `node dist/mta.cjs` or as the single
// executable, whose flags are built in from packaging/sea/sea-config.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selfCommand, WORKER_V8_FLAGS } from '../../../src/system/self-exec.js';

describe('selfCommand', () => {
  it('self-exec gives workers the V8 flags the single executable has built in', () => {
    const sea = JSON.parse(readFileSync(join(__dirname, '../../../packaging/sea/sea-config.json'), 'utf8')) as { execArgv?: string[] };
    expect(sea.execArgv).toEqual(WORKER_V8_FLAGS);
    expect(selfCommand().args.slice(0, WORKER_V8_FLAGS.length)).toEqual(WORKER_V8_FLAGS);
  });
});
