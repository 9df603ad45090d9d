// The error config/ throws: every problem found in a config file at once, each with its file and line.
// Syntax errors from libconfig/ are carried the same way, so callers print one kind of list.

/** One problem in a config file, printed as `FILE:LINE: message`. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Formats a problem as `FILE:LINE: message`. */
export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}: ${problem.message}`;
}

/** Thrown when a config file cannot be parsed or validated; `problems` lists every problem found. */
export class ConfigError extends SyntaxError {
  readonly code = 'MTA_ERR_CONFIG' as const;
  readonly problems: readonly ConfigProblem[];
  /** File of the first problem. */
  readonly file: string;
  /** Line of the first problem. */
  readonly line: number;

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join('\n'), options);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
    this.file = problems[0]?.file ?? '';
    this.line = problems[0]?.line ?? 0;
  }
}
