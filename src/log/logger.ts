// The pino root logger and the narrow Logger type modules receive. Modules never create loggers;
// cli/ makes the root and hands each module a child bound to what it logs about.
// The supervisor opens the log file (LogFile); workers append to the same file themselves
// (WorkerLog), asynchronously, so a slow disk never stalls an SMTP worker's event loop and no line
// costs the supervisor a wake-up. A worker gathers its lines for up to 50 ms and writes them in one
// go: an asynchronous write is a thread-pool round trip, and one per line was 4% of the CPU of a
// small message. When the log goes to stderr, workers write JSON lines to a pipe
// the supervisor reads (forEachLines) and writes, formatted for a terminal if it is one.
// Files and pipes get JSON lines; a terminal gets them human-readable, through pino-pretty's
// formatter called in-process (a pino transport needs worker-thread files a SEA does not have).
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import { PipeDestination } from './pipe-destination.js';

/** The logging surface modules use: pino's level methods and child(). */
export type Logger = pino.Logger;

/** Options for the root logger. */
export interface LoggerOptions {
  /** @default 'info' */
  readonly level: string;
  /** Path of the log file; null writes to stderr. */
  readonly file: string | null;
}

type Destination = ReturnType<typeof pino.destination>;

/** Options of LogFile.open that matter only when the log goes to stderr. */
export interface LogFileOptions {
  /**
   * Whether stderr is a terminal: then lines are written human-readable, else as JSON lines.
   * @default process.stderr.isTTY === true
   */
  readonly isTerminal?: boolean;
  /**
   * Whether human-readable lines are coloured.
   * @default true unless NO_COLOR is set or TERM is "dumb" (https://no-color.org)
   */
  readonly hasColor?: boolean;
  /**
   * The descriptor written in place of stderr (tests pass a file's).
   * @default 2
   */
  readonly fd?: number;
}

/** Tells how the log is written: JSON lines, or human-readable for a person at a terminal. */
export function logFormat(file: string | null, isTerminal: boolean): 'json' | 'pretty' {
  return file === null && isTerminal ? 'pretty' : 'json';
}

/** Builds the formatter that turns one JSON log line (with or without its newline) into a pretty line. */
export function prettyLines(hasColor: boolean): (line: string) => string {
  const format = prettyFactory({
    colorize: hasColor,
    singleLine: true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'hostname',
  });
  return (line) => format(line.endsWith('\n') ? line.slice(0, -1) : line);
}

function hasColorByDefault(env: NodeJS.ProcessEnv): boolean {
  return env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

/**
 * The supervisor's log destination: the log file (or stderr), written asynchronously, reopened by
 * path on SIGHUP/SIGUSR1 so that logrotate's `mv` is followed by a fresh file. On a terminal its
 * own and forwarded worker lines alike are formatted for reading before they are written.
 */
export class LogFile {
  private readonly dest: Destination;
  private readonly format: ((line: string) => string) | undefined;
  /** What pino writes to: the destination itself, or a formatter in front of it. */
  readonly stream: pino.DestinationStream;

  private constructor(
    readonly file: string | null,
    dest: Destination,
    format: ((line: string) => string) | undefined,
  ) {
    this.dest = dest;
    this.format = format;
    this.stream = format ? prettyStream(dest, format) : dest;
  }

  /**
   * Opens the destination. The file is created synchronously first, so that a mistake (EACCES,
   * EISDIR) is reported at start-up and the file exists to be handed to the service user.
   */
  static async open(file: string | null, options: LogFileOptions = {}): Promise<LogFile> {
    if (file === null) {
      const dest = pino.destination({ fd: options.fd ?? 2, sync: false });
      const isTerminal = options.isTerminal ?? process.stderr.isTTY === true;
      if (logFormat(file, isTerminal) === 'json') return new LogFile(null, dest, undefined);
      return new LogFile(null, dest, prettyLines(options.hasColor ?? hasColorByDefault(process.env)));
    }
    closeSync(openSync(file, 'a', 0o640));
    const dest = pino.destination({ dest: file, sync: false, append: true, mode: 0o640, mkdir: false });
    await new Promise<void>((resolve, reject) => {
      dest.once('ready', () => resolve());
      dest.once('error', reject);
    });
    return new LogFile(file, dest, undefined);
  }

  /** Whether lines are written human-readable (stderr is a terminal) rather than as JSON. */
  get isPretty(): boolean {
    return this.format !== undefined;
  }

  /** Writes one complete line (a worker's JSON line, without its newline). */
  writeLine(line: string): void {
    this.dest.write(this.format ? this.format(line) : `${line}\n`);
  }

  /** Writes complete lines (each ending in a newline) as one write; on a terminal each is formatted. */
  writeLines(text: string): void {
    if (!this.format) return void this.dest.write(text);
    for (const line of text.split('\n')) if (line !== '') this.writeLine(line);
  }

  /** Reopens the file by its path (after rotation); stderr has nothing to reopen. */
  reopen(): void {
    if (this.file !== null) this.dest.reopen();
  }

  /** Writes out everything buffered and closes the file; resolves once nothing is pending. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.dest.once('close', () => resolve());
      this.dest.once('error', () => resolve());
      this.dest.end();
    });
  }
}

/** Puts a formatter in front of a destination; pino's flush still reaches the destination. */
function prettyStream(dest: Destination, format: (line: string) => string): pino.DestinationStream & { flush(cb: (err?: Error) => void): void } {
  return {
    write: (chunk: string) => dest.write(format(chunk)),
    flush: (cb) => dest.flush(cb),
  };
}

/** Creates the root logger on a destination: one JSON line per event. */
export function createLogger(level: string, dest: pino.DestinationStream): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A worker's root logger, writing to its WorkerLog. */
export function workerLogger(log: WorkerLog, level: string, bindings: Record<string, string>): Logger {
  return createLogger(level, log.stream).child(bindings);
}

/**
 * A worker's log destination: the log file, opened for appending (each write is whole lines, so
 * lines of different processes never interleave) and reopened by path when the supervisor says
 * so; or, with no log file, the pipe to the supervisor.
 */
export class WorkerLog {
  readonly stream: pino.DestinationStream;
  private readonly batch: LineBatch | undefined;

  constructor(file: string | null) {
    if (file === null) {
      this.stream = new PipeDestination(1);
      return;
    }
    const dest = pino.destination({ dest: file, sync: false, append: true, mode: 0o640, mkdir: false });
    // The supervisor opened this file as the same user: a failure here is rare, and told on
    // stderr, which the supervisor logs.
    dest.on('error', (err: Error) => process.stderr.write(`cannot write log file ${file}: ${err.message}\n`));
    this.batch = new LineBatch(dest);
    this.stream = this.batch;
    // A worker that dies of an uncaught exception still writes the lines it gathered.
    process.once('exit', () => this.batch?.flushSync());
  }

  /** Reopens the file by its path (after rotation); the lines gathered so far go to the old one. */
  reopen(): void {
    this.batch?.reopen();
  }
}

/** How long a line may wait to be written with the ones after it. */
const BATCH_DELAY_MS = 50;
/** Gathered text beyond which the lines are written at once. */
const BATCH_MAX_CHARS = 16 * 1024;

/**
 * Gathers whole lines and hands them to the destination as one write, at the latest
 * BATCH_DELAY_MS after the first of them (the timer runs only while lines wait).
 */
export class LineBatch implements pino.DestinationStream {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly dest: Pick<Destination, 'write' | 'flush' | 'flushSync' | 'reopen'>) {}

  write(lines: string): void {
    this.pending += lines;
    if (this.pending.length >= BATCH_MAX_CHARS) this.handOver();
    else this.timer ??= setTimeout(() => this.handOver(), BATCH_DELAY_MS);
  }

  /** pino's logger.flush: writes what waits, then calls back once the destination has written it. */
  flush(cb: (err?: Error) => void): void {
    this.handOver();
    this.dest.flush(cb);
  }

  /** Writes what waits, synchronously (at exit); a file not open yet or closed is given up on. */
  flushSync(): void {
    this.handOver();
    try {
      this.dest.flushSync();
    } catch {
      // Nothing left to write to at exit.
    }
  }

  reopen(): void {
    this.handOver();
    this.dest.reopen();
  }

  private handOver(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    this.dest.write(this.pending);
    this.pending = '';
  }
}

/** Resolves once everything the logger buffered has been handed to its destination. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/**
 * Hands over each complete line of a stream (node:readline); a partial last line is kept until
 * its newline arrives (or the stream ends), so lines of different workers never interleave.
 * Resolves once the stream has ended and every line was handed over.
 */
export function forEachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line !== '') onLine(line);
  });
  return new Promise((resolve) => lines.once('close', resolve));
}

/**
 * Hands over the complete lines of a stream in blocks, each block as it arrived minus a partial
 * last line (kept until its newline arrives), so that a busy worker's lines cost one write, not
 * one per line, and lines of different workers never interleave. A last line without its
 * newline is handed over, with one, when the stream ends. Resolves once
 * the stream has ended and every line was handed over.
 */
export function forEachLines(stream: Readable, onLines: (text: string) => void): Promise<void> {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const end = chunk.lastIndexOf('\n');
    if (end < 0) return void (partial += chunk);
    onLines(partial + chunk.slice(0, end + 1));
    partial = chunk.slice(end + 1);
  });
  return new Promise((resolve) => {
    const done = () => {
      if (partial !== '') onLines(`${partial}\n`);
      partial = '';
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
  });
}

/** A logger that drops everything, for tests and commands that should stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
