// The one error a libconfig document can raise, and the one place its messages are worded.
// Every message names the file and line (`FILE:LINE: detail`); wording follows STYLE.md §5.

/** A token as the error-message builder needs it: its kind and, for values, its text. */
export interface TokenDescription {
  readonly kind: string;
  readonly text: string;
}

/** Reports a document that the libconfig grammar rejects, with the file and line at fault. */
export class LibconfigSyntaxError extends SyntaxError {
  readonly code = 'MTA_ERR_CONFIG_SYNTAX';
  readonly file: string;
  readonly line: number;
  readonly detail: string;

  constructor(file: string, line: number, detail: string) {
    super(`${escapeControls(file)}:${line}: ${detail}`);
    this.name = 'LibconfigSyntaxError';
    this.file = file;
    this.line = line;
    this.detail = detail;
  }
}

// Control characters (C0, DEL, C1) and invisible format, line and paragraph separators: printed
// raw, a NUL, an escape sequence or a bidi override in a config file would reach the terminal.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

function escapeControls(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Quotes text taken from the input for a message: `"a\"b"`, with `\x00` for a NUL and the like. */
function quote(text: string): string {
  return `"${escapeControls(text.replace(/[\\"]/g, '\\$&'))}"`;
}

/** Describes a token for a message: `"}"`, `"abc"`, or `end of file`. */
export function describeToken(token: TokenDescription): string {
  if (token.kind === 'eof') return 'end of file';
  if (token.kind === 'string') return `string ${quote(token.text)}`;
  return quote(token.text);
}

/**
 * Builds the detail of an error; the one place where the parser's messages are worded. Every
 * piece of input is quoted through quote(), so no control character reaches a terminal raw.
 */
export const messages = {
  settingContext: (name: string): string => `Cannot parse setting ${quote(name)}`,
  unexpected: (context: string, token: TokenDescription): string =>
    `${context}: unexpected ${describeToken(token)}`,
  duplicate: (name: string): string => `Cannot add setting: duplicate setting ${quote(name)}`,
  mixedArray: (first: string, found: string): string =>
    `Cannot add ${found} to array of ${first}: mismatched element type in array`,
  outOfRange: (text: string): string => `Cannot parse integer: integer ${quote(text)} is out of range`,
  badOctal: (text: string): string => `Cannot parse integer ${quote(text)}: invalid octal digit`,
  garbage: (text: string): string => `Cannot parse input: unexpected character ${quote(text)}`,
  includeOpen: (path: string, reason: string): string => `Cannot open include file ${quote(path)}: ${reason}`,
  includeDepth: (path: string, max: number): string =>
    `Cannot include ${quote(path)}: include files nested deeper than ${max} levels`,
} as const;
