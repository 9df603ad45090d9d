// Log plumbing: the supervisor splits worker pipes into whole lines, whatever the chunking, and
// writes JSON lines to files and pipes, human-readable ones to a terminal.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, flushLogger, forEachLine, forEachLines, LogFile, logFormat, prettyLines } from '../../../src/log/logger.js';

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

describe('forEachLines', () => {
  it('forEachLines hands over whole lines in blocks, whatever the chunking, and a last line without newline at the end', async () => {
    const stream = new PassThrough();
    const blocks: string[] = [];
    const done = forEachLines(stream, (text) => blocks.push(text));
    for (const chunk of ['{"a":', '1}\n{"b"', ':2}\n{"c":3}\n{"d":4}\n', '{"e":5}']) stream.write(chunk);
    stream.end();
    await done;
    expect(blocks.every((b) => b.endsWith('\n'))).toBe(true);
    expect(blocks.join('')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n{"e":5}\n');
  });
});

describe('LogFile format', () => {
  it.each([
    [null, true, 'pretty'],
    [null, false, 'json'],
    ['/var/log/mta/mta.log', true, 'json'],
    ['/var/log/mta/mta.log', false, 'json'],
  ] as const)('logFormat writes file %j with a terminal %j as %s', (file, isTerminal, format) => {
    expect(logFormat(file, isTerminal)).toBe(format);
  });

  /** Opens a LogFile on stderr with a temp file standing in for fd 2; returns what was written. */
  async function writeThrough(isTerminal: boolean): Promise<{ text: string; isPretty: boolean }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mta-log-'));
    const fd = fs.openSync(path.join(dir, 'stderr'), 'w');
    const logFile = await LogFile.open(null, { isTerminal, hasColor: false, fd });
    const logger = createLogger('info', logFile.stream);
    logger.info({ version: '9.9.9' }, 'started');
    await flushLogger(logger);
    // A worker's line as the supervisor forwards it from the pipe.
    logFile.writeLine('{"level":30,"time":"2025-01-02T03:04:05.678Z","pid":4242,"role":"smtp","sid":"abc","msg":"session closed"}');
    await logFile.close();
    const text = fs.readFileSync(path.join(dir, 'stderr'), 'utf8');
    fs.rmSync(dir, { recursive: true });
    return { text, isPretty: logFile.isPretty };
  }

  it('LogFile on a terminal writes its own and forwarded worker lines human-readable', async () => {
    const { text, isPretty } = await writeThrough(true);
    const lines = text.trimEnd().split('\n');
    expect(isPretty).toBe(true);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toMatch(/^\{/);
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO \(\d+\): started \{"version":"9\.9\.9"\}$/);
    expect(lines[1]).toMatch(/\] INFO \(4242\): session closed \{"role":"smtp","sid":"abc"\}$/);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\x1b\[/);
  });

  it('LogFile off a terminal writes JSON lines and forwards worker lines unchanged', async () => {
    const { text, isPretty } = await writeThrough(false);
    const lines = text.trimEnd().split('\n');
    expect(isPretty).toBe(false);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 30, msg: 'started', version: '9.9.9' });
    expect(lines[1]).toBe('{"level":30,"time":"2025-01-02T03:04:05.678Z","pid":4242,"role":"smtp","sid":"abc","msg":"session closed"}');
  });

  it('LogFile to a file writes JSON lines even when stderr is a terminal', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mta-log-'));
    const file = path.join(dir, 'mta.log');
    const logFile = await LogFile.open(file, { isTerminal: true });
    logFile.writeLine('{"level":30,"msg":"x"}');
    await logFile.close();
    expect(logFile.isPretty).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"level":30,"msg":"x"}\n');
    fs.rmSync(dir, { recursive: true });
  });

  it('prettyLines passes a line that is not JSON through', () => {
    expect(prettyLines(false)('not json\n')).toBe('not json\n');
  });
});
