// The pino root logger and the narrow Logger type modules receive. Modules never create loggers;
// cli/ makes the root and hands each module a child bound to what it logs about.
// Only the supervisor writes the log file (LogFile); workers write JSON lines to a pipe it reads
// (workerLogger, LineSplitter), so a slow disk never stalls an SMTP worker's event loop.
import { closeSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import pino from 'pino';
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

/**
 * The supervisor's log destination: the log file (or stderr), written asynchronously, reopened by
 * path on SIGHUP/SIGUSR1 so that logrotate's `mv` is followed by a fresh file.
 */
export class LogFile {
  private readonly dest: Destination;

  private constructor(
    readonly file: string | null,
    dest: Destination,
  ) {
    this.dest = dest;
  }

  /**
   * Opens the destination. The file is created synchronously first, so that a mistake (EACCES,
   * EISDIR) is reported at start-up and the file exists to be handed to the service user.
   */
  static async open(file: string | null): Promise<LogFile> {
    if (file === null) return new LogFile(null, pino.destination({ fd: 2, sync: false }));
    closeSync(openSync(file, 'a', 0o640));
    const dest = pino.destination({ dest: file, sync: false, append: true, mode: 0o640, mkdir: false });
    await new Promise<void>((resolve, reject) => {
      dest.once('ready', () => resolve());
      dest.once('error', reject);
    });
    return new LogFile(file, dest);
  }

  /** The stream pino and forwarded worker lines write to. */
  get stream(): Destination {
    return this.dest;
  }

  /** Writes one complete line (a worker's JSON line, without its newline). */
  writeLine(line: string): void {
    this.dest.write(`${line}\n`);
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

/** Creates the root logger on a destination: one JSON line per event. */
export function createLogger(level: string, dest: pino.DestinationStream): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A worker's root logger: JSON lines to stdout, a pipe the supervisor reads. */
export function workerLogger(level: string, bindings: Record<string, string>): Logger {
  return createLogger(level, new PipeDestination(1)).child(bindings);
}

/** Resolves once everything the logger buffered has been handed to its destination. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/**
 * Splits a stream into lines and hands over each complete one; a partial last line is kept until
 * its newline arrives (or the stream ends), so lines of different workers never interleave.
 */
export function forEachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line !== '') onLine(line);
  });
  return new Promise((resolve) => {
    stream.once('close', () => {
      if (pending !== '') onLine(pending);
      pending = '';
      resolve();
    });
  });
}

/** A logger that drops everything, for tests and commands that should stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
