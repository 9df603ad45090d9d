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
