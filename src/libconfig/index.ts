// A libconfig parser for Node, faithful to the C library 1.8 (hyperrealm/libconfig): text in,
// a tree with file and line on every value out. It never writes libconfig text back.

import * as fs from 'node:fs';
import { Parser } from './parser.js';
import { Scanner } from './scanner.js';
import type { GroupValue } from './types.js';

export { LibconfigSyntaxError } from './errors.js';
export { toJSONText } from './json.js';
export * from './types.js';

/** Options of {@link parse}. */
export interface ParseOptions {
  /** The name of the text's file: used in positions, errors, and to resolve `@include`. */
  readonly file: string;
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
    readFile: options.readFile ?? ((path) => fs.readFileSync(path, 'utf8')),
    maxIncludeDepth: options.maxIncludeDepth ?? 10,
  });
  return new Parser(scanner).parseRoot();
}

/** Reads and parses a libconfig file; `@include` paths resolve against its directory. */
export function parseFile(path: string): GroupValue {
  return parse(fs.readFileSync(path, 'utf8'), { file: path });
}
