// The pino root logger and the narrow Logger type modules receive. Modules never create loggers;
// cli/ makes the root and hands each module a child bound to what it logs about.
import { openSync } from 'node:fs';
import pino from 'pino';

/** The logging surface modules use: pino's level methods and child(). */
export type Logger = pino.Logger;

/** Options for the root logger. */
export interface LoggerOptions {
  /** @default 'info' */
  readonly level: string;
  /** Path of the log file; null writes to stderr. */
  readonly file: string | null;
}

/**
 * Opens the log destination now (so a file is opened before privileges are dropped) and returns
 * its file descriptor: 2 for stderr.
 */
export function openLogFile(file: string | null): number {
  return file ? openSync(file, 'a', 0o640) : 2;
}

/** Creates the root logger on an open descriptor: one JSON line per event. */
export function createLogger(level: string, fd: number): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd, sync: false }),
  );
}

/** A logger that drops everything, for tests and commands that should stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
