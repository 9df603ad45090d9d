// A worker's log destination: JSON lines written to the pipe the supervisor reads, through a
// libuv stream on the descriptor (non-blocking writes from the event loop, no thread-pool round
// trip per line), so a slow supervisor never blocks an SMTP worker's event loop. Lines logged in
// one turn of the event loop go out in one write. Unlike pino.destination it never retries a
// broken pipe: when the supervisor is gone (EPIPE) lines are dropped, and nothing runs at exit
// that could loop on a dead reader (sonic-boom's flushSync retries EPIPE forever).
import net from 'node:net';

/** Lines kept while the reader is slow; beyond this they are dropped and counted. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** A pino destination stream over a pipe's file descriptor. */
export class PipeDestination {
  private readonly socket: net.Socket;
  private pending: string[] = [];
  private pendingBytes = 0;
  private isScheduled = false;
  private isBroken = false;
  /** Lines dropped because the reader lagged too far or was gone. */
  dropped = 0;

  constructor(fd: number) {
    this.socket = new net.Socket({ fd, readable: false, writable: true });
    this.socket.on('error', () => this.breakPipe());
    this.socket.unref();
  }

  /** Queues one or more complete lines; never blocks, never throws. */
  write(text: string): boolean {
    if (this.isBroken || this.socket.writableLength + this.pendingBytes + text.length > MAX_QUEUED_BYTES) {
      this.dropped += 1;
      return true;
    }
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (!this.isScheduled) {
      this.isScheduled = true;
      setImmediate(() => this.send());
    }
    return true;
  }

  /** Calls back once everything queued so far is written (or dropped). */
  flush(done: (err?: Error) => void): void {
    this.send();
    if (this.isBroken || this.socket.writableLength === 0) return done();
    this.socket.write('', () => done());
  }

  private send(): void {
    this.isScheduled = false;
    if (this.pending.length === 0 || this.isBroken) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.write(text);
  }

  private breakPipe(): void {
    this.isBroken = true;
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
