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
    super(`${file}:${line}: ${detail}`);
    this.name = 'LibconfigSyntaxError';
    this.file = file;
    this.line = line;
    this.detail = detail;
  }
}

/** Describes a token for a message: `"}"`, `"abc"`, or `end of file`. */
export function describeToken(token: TokenDescription): string {
  if (token.kind === 'eof') return 'end of file';
  if (token.kind === 'string') return `string ${JSON.stringify(token.text)}`;
  return `"${token.text}"`;
}

/** Builds the detail of an error; the one place where the parser's messages are worded. */
export const messages = {
  unexpected: (context: string, token: TokenDescription): string =>
    `${context}: unexpected ${describeToken(token)}`,
  duplicate: (name: string): string => `Cannot add setting: duplicate setting "${name}"`,
  mixedArray: (first: string, found: string): string =>
    `Cannot add ${found} to array of ${first}: mismatched element type in array`,
  outOfRange: (text: string): string => `Cannot parse integer: integer "${text}" is out of range`,
  badOctal: (text: string): string => `Cannot parse integer "${text}": invalid octal digit`,
  garbage: (text: string): string => `Cannot parse input: unexpected character "${text}"`,
  includeOpen: (path: string, reason: string): string => `Cannot open include file "${path}": ${reason}`,
  includeDepth: (path: string, max: number): string =>
    `Cannot include "${path}": include files nested deeper than ${max} levels`,
} as const;
