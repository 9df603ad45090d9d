// Reading Node's system errors for log lines: the errno code (ENOSPC, EACCES...) of a failed call.

/** Returns the errno code of an error (ENOSPC, EACCES...), or its text when it has none. */
export function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}

