// Reading a config file: libconfig text -> tree -> validated Config. A syntax error becomes a
// ConfigError with one problem, so `mta -t` prints syntax and validation problems alike.
// I/O errors (missing or unreadable file) are not wrapped: the caller reports them as such.

import { LibconfigSyntaxError, parse, parseFile } from '../libconfig/index.js';
import { ConfigError } from './errors.js';
import type { Config } from './types.js';
import { validateConfig } from './validate.js';

function asConfigError(error: unknown): unknown {
  if (error instanceof LibconfigSyntaxError) {
    return new ConfigError([{ file: error.file, line: error.line, message: error.detail }], { cause: error });
  }
  return error;
}

/** Reads, parses and validates a config file; throws ConfigError, or the fs error if it cannot be read. */
export function loadConfig(path: string): Config {
  let tree;
  try {
    tree = parseFile(path);
  } catch (error) {
    throw asConfigError(error);
  }
  return validateConfig(tree);
}

/** Parses and validates config text; `file` names it in messages. Throws ConfigError. */
export function parseConfig(text: string, file: string): Config {
  let tree;
  try {
    tree = parse(text, { file });
  } catch (error) {
    throw asConfigError(error);
  }
  return validateConfig(tree);
}

/**
 * The embedded default, used when mta runs without -f: every key at its default, except that
 * mailboxes are created on first delivery, so the README's tour can mail anyone at localhost.
 * A real config leaves that off (anyone could fill the disk with mailboxes).
 */
const EMBEDDED = 'maildir = { create_mailboxes = true; };\n';

/** Returns the embedded default config. */
export function defaultConfig(): Config {
  return parseConfig(EMBEDDED, '(embedded default)');
}
