// Reading Node's system errors for log lines: the errno code (ENOSPC, EACCES...) of a failed call.

/** Returns the errno code of an error (ENOSPC, EACCES...), or its text when it has none. */
export function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}


/** Turns `ENOENT: no such file or directory, open 'x'` (or `EISDIR: ..., read`) into its middle part. */
export function ioReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /^[A-Z0-9_]+: (.*?)(?:, \w+(?: '.*')?)?$/s.exec(message)?.[1] ?? message;
}
