// The pino root logger and the narrow Logger type modules receive. Modules never create loggers;
// cli/ makes the root and hands each module a child bound to what it logs about.
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

/** Creates the root logger: one JSON line per event, with pid and hostname like pino's default. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: false })
    : pino.destination({ fd: 2, sync: false });
  return pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** A logger that drops everything, for tests and commands that should stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
