// Maildir unique file names: `<seconds>.M<micros>P<pid>Q<n>.<host>` in tmp/, with `,S=<size>`
// added on the way into new/ (Dovecot's format; it trusts S= as the file's exact byte size).
// Uniqueness comes from the time, the pid and a per-process counter, as in Dovecot and Postfix.
import { hostname as osHostname } from 'node:os';

/** Encodes a host name for a Maildir file name: `/` and `:` would break the path and the flags. */
export function encodeHost(host: string): string {
  return host.replaceAll('/', '\\057').replaceAll(':', '\\072');
}

/** Returns a unique name with its size suffix, as stored in new/. */
export function withSize(baseName: string, sizeBytes: number): string {
  return `${baseName},S=${sizeBytes}`;
}

/** Options for MaildirNamer; the defaults are the real clock, pid and host. */
export interface MaildirNamerOptions {
  /** @default os.hostname() */
  readonly hostname?: string;
  /** @default process.pid */
  readonly pid?: number;
  /** Returns the current time in microseconds since the epoch. @default wall clock */
  readonly nowMicros?: () => bigint;
}

/** Hands out unique Maildir base names for one process. */
export class MaildirNamer {
  private counter = 0;
  private readonly host: string;
  private readonly pid: number;
  private readonly nowMicros: () => bigint;

  constructor(options: MaildirNamerOptions = {}) {
    this.host = encodeHost(options.hostname ?? osHostname());
    this.pid = options.pid ?? process.pid;
    this.nowMicros = options.nowMicros ?? wallClockMicros;
  }

  /** Returns the next unique base name (without `,S=`). */
  next(): string {
    const micros = this.nowMicros();
    const seconds = micros / 1_000_000n;
    const fraction = micros % 1_000_000n;
    this.counter += 1;
    return `${seconds}.M${fraction}P${this.pid}Q${this.counter}.${this.host}`;
  }
}

// Date.now() alone has millisecond resolution; hrtime supplies the microseconds within it,
// anchored once so the value stays monotonic within the process.
const originMicros = BigInt(Date.now()) * 1000n - process.hrtime.bigint() / 1000n;

function wallClockMicros(): bigint {
  return originMicros + process.hrtime.bigint() / 1000n;
}
