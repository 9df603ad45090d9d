// The minimum data rate of DATA and BDAT, as Postfix's smtpd_min_data_rate: instead of a data_block
// timer restarted by every read (which a client dripping a byte at a time keeps alive until the
// session cap), a deadline that starts data_block away and moves on N / rate seconds for each read
// of N bytes, never further than data_block from now. Pure: the listener passes the time in.

/** When a message's data must have arrived by, given what has arrived so far. */
export class DataPace {
  private deadlineMs: number;
  /** The deadline is data_block from the last read: missing it means idleness, not slowness. */
  private isCapped = true;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly windowMs: number,
    nowMs: number,
  ) {
    this.deadlineMs = nowMs + windowMs;
  }

  /** Credits a read of `bytes` at `nowMs`; false when the deadline had already passed. */
  credit(bytes: number, nowMs: number): boolean {
    if (nowMs >= this.deadlineMs) return false;
    const capMs = nowMs + this.windowMs;
    this.deadlineMs = Math.min(capMs, this.deadlineMs + (bytes * 1000) / this.bytesPerSecond);
    this.isCapped = this.deadlineMs === capMs;
    return true;
  }

  /** Moves the deadline on by time the server spent itself (its disk, its own backpressure). */
  excuse(ms: number): void {
    this.deadlineMs += Math.max(0, ms);
  }

  /** Milliseconds left before the deadline, and whether missing it is idleness (a timeout) or slowness. */
  remaining(nowMs: number): { readonly ms: number; readonly isIdle: boolean } {
    return { ms: Math.max(0, this.deadlineMs - nowMs), isIdle: this.isCapped };
  }
}
