// Log plumbing: the supervisor splits worker pipes into whole lines, whatever the chunking.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachLine } from '../../../src/log/logger.js';

describe('forEachLine', () => {
  it('forEachLine joins lines split across chunks and keeps a last line without newline', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    const done = forEachLine(stream, (l) => lines.push(l));
    for (const chunk of ['{"a":', '1}\n{"b"', ':2}\n\n{"c":3}']) stream.write(chunk);
    stream.end();
    await done;
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});
