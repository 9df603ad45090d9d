// A worker's log destination: JSON lines written to a pipe the supervisor reads, asynchronously,
// so a slow supervisor never blocks an SMTP worker's event loop. Unlike pino.destination it never
// retries a broken pipe: when the supervisor is gone (EPIPE) lines are dropped, and nothing runs
// at exit that could loop on a dead reader (sonic-boom's flushSync retries EPIPE forever).
import { write } from 'node:fs';

/** Lines kept while the reader is slow; beyond this they are dropped and counted. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** A pino destination stream over a pipe's file descriptor. */
export class PipeDestination {
  private queue: string[] = [];
  private queuedBytes = 0;
  private isWriting = false;
  private isBroken = false;
  private waiters: (() => void)[] = [];
  /** Lines dropped because the reader lagged too far or was gone. */
  dropped = 0;

  constructor(private readonly fd: number) {}

  /** Queues one or more complete lines; never blocks, never throws. */
  write(text: string): boolean {
    if (this.isBroken || this.queuedBytes + text.length > MAX_QUEUED_BYTES) {
      this.dropped += 1;
      return true;
    }
    this.queue.push(text);
    this.queuedBytes += text.length;
    if (!this.isWriting) this.pump();
    return true;
  }

  /** Calls back once everything queued so far is written (or dropped). */
  flush(done: (err?: Error) => void): void {
    if (!this.isWriting && this.queue.length === 0) done();
    else this.waiters.push(() => done());
  }

  private pump(): void {
    const data = Buffer.from(this.queue.join(''));
    this.queue = [];
    this.queuedBytes = 0;
    this.isWriting = true;
    this.writeFrom(data, 0);
  }

  private writeFrom(data: Buffer, offset: number): void {
    write(this.fd, data, offset, data.length - offset, null, (err, written) => {
      if (err && err.code === 'EAGAIN') return void setTimeout(() => this.writeFrom(data, offset), 10);
      if (err) this.breakPipe();
      else if (offset + written < data.length) return this.writeFrom(data, offset + written);
      this.isWriting = false;
      if (this.queue.length > 0 && !this.isBroken) return this.pump();
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  private breakPipe(): void {
    this.isBroken = true;
    this.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }
}
