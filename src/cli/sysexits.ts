// Exit statuses of sysexits.h, which callers of sendmail (cron, mailx, PHP) interpret.

/** The command was used incorrectly. */
export const EX_USAGE = 64;
/** The input data was incorrect (a bad address, a message too large). */
export const EX_DATAERR = 65;
/** An internal software error (a bug). */
export const EX_SOFTWARE = 70;
/** An output file cannot be created (the maildrop is missing or not writable). */
export const EX_CANTCREAT = 73;
/** A temporary failure: the caller may try again later. */
export const EX_TEMPFAIL = 75;
/** Something was found in an unconfigured or misconfigured state. */
export const EX_CONFIG = 78;
