// Log plumbing: the supervisor splits worker pipes into whole lines, whatever the chunking, and
// writes JSON lines to files and pipes, human-readable ones to a terminal.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, flushLogger, forEachLine, forEachLines, LineBatch, LogFile, logFormat, prettyLines } from '../../../src/log/logger.js';

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

describe('LineBatch (a worker\'s lines on their way to the log file)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A destination that records what reaches it, in order. */
  function recorder() {
    const calls: string[] = [];
    return {
      calls,
      dest: {
        write: (text: string) => calls.push(`write ${text}`) > 0,
        flush: (cb: (err?: Error) => void) => {
          calls.push('flush');
          cb();
        },
        flushSync: () => void calls.push('flushSync'),
        reopen: () => void calls.push('reopen'),
      },
    };
  }

  it('writes the lines of 50 ms in one write, and nothing before', () => {
    vi.useFakeTimers();
    const { calls, dest } = recorder();
    const batch = new LineBatch(dest);
    batch.write('a\n');
    vi.advanceTimersByTime(30);
    batch.write('b\n');
    vi.advanceTimersByTime(19);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['write a\nb\n']);
    batch.write('c\n');
    vi.advanceTimersByTime(50);
    expect(calls).toEqual(['write a\nb\n', 'write c\n']);
  });

  it('writes at once when 16 KiB wait, without waiting for the timer', () => {
    vi.useFakeTimers();
    const { calls, dest } = recorder();
    const batch = new LineBatch(dest);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 16; i++) batch.write(line);
    expect(calls).toEqual([`write ${line.repeat(16)}`]);
    vi.advanceTimersByTime(100);
    expect(calls).toHaveLength(1);
  });

  it('flush, flushSync and reopen hand over the waiting lines first', () => {
    const { calls, dest } = recorder();
    const batch = new LineBatch(dest);
    let flushed = false;
    batch.write('a\n');
    batch.flush(() => (flushed = true));
    batch.write('b\n');
    batch.reopen();
    batch.write('c\n');
    batch.flushSync();
    expect(flushed).toBe(true);
    expect(calls).toEqual(['write a\n', 'flush', 'write b\n', 'reopen', 'write c\n', 'flushSync']);
  });

  it('through pino to a real file: a logger.flush hands every line logged before it to the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mta-log-'));
    const file = path.join(dir, 'mta.log');
    const dest = (await import('pino')).default.destination({ dest: file, sync: false, mkdir: false });
    await new Promise((resolve) => dest.once('ready', resolve));
    const logger = createLogger('info', new LineBatch(dest));
    for (let i = 0; i < 3; i++) logger.info({ i }, 'line');
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    await flushLogger(logger);
    await new Promise((resolve) => {
      dest.once('close', resolve);
      dest.end();
    });
    expect(fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).i)).toEqual([0, 1, 2]);
    fs.rmSync(dir, { recursive: true });
  });
});
