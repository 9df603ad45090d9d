// Writing a message straight into its mailbox while it is received, for mail whose recipients
// all share one mailbox (most local mail): the Maildir form (delivery headers, LF line ends) goes
// into the mailbox's tmp/ as the DATA arrives, and at the end of DATA the file is fsync'd and
// renamed into new/, whose fsync is shared with concurrent deliveries. The message is written
// once, with no queue copy to write, read back and remove. If anything fails before the rename
// is durable nothing is left in tmp/ or new/, and the caller refuses the message (4xx), so the
// client keeps it and retries.
import { closeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { fsyncFd } from '../fsio/durable.js';
import { errnoCode } from '../fsio/errno.js';
import { FileSink } from '../fsio/file-sink.js';
import { CrlfToLf } from './maildir-copy.js';
import { type Placement, publish, type Staged } from './maildir-write.js';

/** A message being received into one mailbox. */
export class ReceivingCopy {
  /** The body as the server writes it: CRLF line ends, dot-unstuffed, Received header first. */
  readonly body: FileSink;
  private isOpen = true;
  private settled = false;

  /** `fd` is the open file at `staged.tmpPath`; the copy closes it. */
  constructor(
    private readonly fd: number,
    private readonly staged: Staged,
    headers: string,
  ) {
    this.body = new FileSink(fd, new CrlfToLf(), Buffer.from(headers));
  }

  /** Ends the body, fsyncs the file and publishes it into new/; on failure nothing is left behind. */
  async publish(): Promise<Placement> {
    this.settled = true;
    if (!this.body.writableEnded) this.body.end();
    try {
      await finished(this.body);
      if (this.body.failure !== undefined) throw this.body.failure;
      await fsyncFd(this.fd);
      this.close();
    } catch (err) {
      await this.dropFile();
      return { dir: this.staged.dir, ok: false, error: errnoCode(err) };
    }
    return publish(this.staged, this.body.bytesWritten);
  }

  /** Drops the partial copy. */
  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.body.destroy();
    await this.dropFile();
  }

  private close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    closeSync(this.fd);
  }

  private dropFile(): Promise<void> {
    try {
      this.close();
    } catch {
      // Closing failed: the file is removed all the same.
    }
    return unlink(this.staged.tmpPath).catch(() => undefined);
  }
}
