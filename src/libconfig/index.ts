// A libconfig parser for Node, faithful to the C library 1.8 (hyperrealm/libconfig): text in,
// a tree with file and line on every value out. It never writes libconfig text back.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Parser } from './parser.js';
import { Scanner } from './scanner.js';
import type { GroupValue } from './types.js';

export { LibconfigSyntaxError } from './errors.js';
export { toJSONText } from './json.js';
export * from './types.js';

/** Options of {@link parse}. */
export interface ParseOptions {
  /** The name of the text's file: used in positions and errors. */
  readonly file: string;
  /**
   * The directory that every relative `@include` path resolves against, in the top-level file
   * and in included files alike (libconfig's `config_set_include_dir`).
   * @default the directory of `file`
   */
  readonly includeDir?: string;
  /**
   * Reads an included file by its resolved path.
   * @default fs.readFileSync(path, 'utf8')
   */
  readonly readFile?: (path: string) => string;
  /**
   * How deeply `@include` directives may nest, as libconfig's own limit.
   * @default 10
   */
  readonly maxIncludeDepth?: number;
}

/** Parses libconfig text into its root group, or throws a LibconfigSyntaxError. */
export function parse(text: string, options: ParseOptions): GroupValue {
  const scanner = new Scanner(options.file, text, {
    readFile: options.readFile ?? ((file) => fs.readFileSync(file, 'utf8')),
    maxIncludeDepth: options.maxIncludeDepth ?? 10,
    includeDir: options.includeDir ?? path.dirname(options.file),
  });
  return new Parser(scanner).parseRoot();
}

/** Reads and parses a libconfig file; every relative `@include` path resolves against its directory. */
export function parseFile(file: string): GroupValue {
  return parse(fs.readFileSync(file, 'utf8'), { file });
}
