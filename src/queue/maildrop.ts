// The pickup of <queue_root>/maildrop: files that sendmail left there are read, checked and queued
// through the intake (so local recipients are delivered and the rest queued, as for SMTP), then
// removed. Picks up at start, on every change fs.watch reports, and on a timer in case a change
// went unreported. The submitter is the file's owner as the kernel reports it, never the content.
// A file that can never be queued is moved to corrupt/ and logged; one that failed for lack of
// disk stays for the next scan. A crash between commit and unlink delivers twice, never never.
import { watch, type FSWatcher } from 'node:fs';
import { chmod, constants, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { placeDirectory } from '../fsio/durable.js';
import { errnoCode } from '../fsio/errno.js';
import type { Intake } from './intake.js';
import { prepareSubmission, type Submission } from './local-submission.js';
import { isDropName, isDropTempName, MAILDROP_DIR_MODE, parseDrop } from './maildrop-file.js';
import type { QueueLogger } from './states.js';

/** What the pickup needs of the intake. */
export type MaildropIntake = Pick<Intake, 'open'>;

/** The submitter and time of one drop file, for its Received header. */
export interface LocalStamp {
  readonly uid: number;
  readonly queueId: string;
  readonly recipient: string | undefined;
  readonly date: Date;
}

export interface MaildropOptions {
  /** The maildrop folder, created 1733 if missing. */
  readonly dir: string;
  /** Where unusable drop files are moved (the queue's corrupt/). */
  readonly corruptDir: string;
  readonly intake: MaildropIntake;
  readonly hostname: string;
  readonly maxMessageBytes: number;
  /** Users whose -f is honoured. */
  readonly trustedUids: readonly number[];
  /** Returns the login name of a uid, undefined if it has none. */
  readonly userName: (uid: number) => string | undefined;
  /** Builds the Received header (CRLF-terminated) of a local submission. */
  readonly receivedHeader: (stamp: LocalStamp) => string;
  /** Formats an RFC 5322 date-time, for a Date field sendmail's caller left out. */
  readonly formatDate: (date: Date) => string;
  /** Returns a new `<id@host>`. */
  readonly newMessageId: () => string;
  readonly logger: QueueLogger;
  /** Backstop scan interval. @default 10000 */
  readonly scanIntervalMs?: number;
  /** A `t.` file older than this was abandoned by its sendmail and is removed. @default 86400000 */
  readonly abandonedAfterMs?: number;
}

/** Something wrong with a drop file that waiting will not fix. */
class Unusable extends Error {}

// Room for the request line and the header fields sendmail adds, over the message size limit.
const OVERHEAD_BYTES = 64 * 1024;

/** Watches the maildrop folder and queues what appears in it. */
export class Maildrop {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private isRescanDue = false;
  private isStopped = false;

  constructor(private readonly options: MaildropOptions) {}

  /** Creates the folder if missing, starts watching, and picks up what is already there. */
  async start(): Promise<void> {
    // Without the folder the timer's scans keep logging why, until someone creates it.
    await this.ensureFolder().catch((err: unknown) => this.options.logger.error({ dir: this.options.dir, err: errnoCode(err) }, 'cannot create maildrop'));
    try {
      this.watcher = watch(this.options.dir, () => this.schedule());
      this.watcher.on('error', (err) => this.options.logger.warn({ err: errnoCode(err) }, 'maildrop watch failed; scanning on the timer only'));
    } catch (err) {
      this.options.logger.warn({ err: errnoCode(err) }, 'maildrop watch failed; scanning on the timer only');
    }
    this.timer = setInterval(() => this.schedule(), this.options.scanIntervalMs ?? 10_000);
    this.timer.unref();
    this.schedule();
    await this.scanning;
  }

  /** Stops watching; waits for the file being queued, if any. */
  async stop(): Promise<void> {
    this.isStopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    await this.scanning;
  }

  /** Asks for a scan; scans never overlap, and a request during one runs one more. */
  private schedule(): void {
    if (this.isStopped) return;
    if (this.scanning) {
      this.isRescanDue = true;
      return;
    }
    this.scanning = this.scanUntilQuiet().finally(() => (this.scanning = undefined));
  }

  private async scanUntilQuiet(): Promise<void> {
    do {
      this.isRescanDue = false;
      await this.scan().catch((err: unknown) => this.options.logger.error({ err: errnoCode(err) }, 'cannot read maildrop'));
    } while (this.isRescanDue && !this.isStopped);
  }

  /**
   * A missing folder gets its mode; an existing one is the operator's (or the package's). It is
   * made under a temporary name and renamed into place, so it never appears without its 1733 mode
   * (mkdir's mode is cut by the umask).
   */
  private async ensureFolder(): Promise<void> {
    const existing = await stat(this.options.dir).catch(() => undefined);
    if (existing) return;
    const staging = `${this.options.dir}.new`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { mode: MAILDROP_DIR_MODE });
    await chmod(staging, MAILDROP_DIR_MODE);
    try {
      await placeDirectory(staging, this.options.dir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private async scan(): Promise<void> {
    for (const name of (await readdir(this.options.dir)).sort()) {
      if (this.isStopped) return;
      if (isDropName(name)) await this.pickUp(name);
      else if (isDropTempName(name)) await this.removeIfAbandoned(name);
      else await this.quarantine(name, 'unknown file name');
    }
  }

  /** Queues one drop file and removes it; moves it aside if it can never be queued. */
  private async pickUp(name: string): Promise<void> {
    try {
      const queued = await this.queue(join(this.options.dir, name));
      if (!queued) {
        this.options.logger.warn({ file: name }, 'maildrop file kept for a retry');
        return;
      }
      await unlink(join(this.options.dir, name));
    } catch (err) {
      if (err instanceof Unusable) await this.quarantine(name, err.message);
      else if (errnoCode(err) !== 'ENOENT') this.options.logger.warn({ file: name, err: errnoCode(err) }, 'maildrop file kept for a retry');
    }
  }

  /** Reads, checks and commits one file; false when the intake could not store it (retry later). */
  private async queue(path: string): Promise<boolean> {
    const { uid, mtime, bytes } = await this.read(path);
    const parsed = parseDrop(bytes);
    if (!parsed.ok) throw new Unusable(parsed.problem);
    const userName = this.options.userName(uid) ?? `uid-${uid}`;
    const facts = {
      userName,
      isTrusted: this.options.trustedUids.includes(uid),
      hostname: this.options.hostname,
      date: this.options.formatDate(mtime),
      messageId: this.options.newMessageId(),
      maxMessageBytes: this.options.maxMessageBytes,
    };
    const submission = prepareSubmission(parsed.request, parsed.message, facts);
    if (!submission.ok) throw new Unusable(submission.problem);
    if (submission.isSenderIgnored) this.options.logger.warn({ uid, user: userName, asked: parsed.request.sender }, 'sendmail -f ignored: user may not set the sender');
    return this.commit(submission, uid);
  }

  /** Opens without following links and checks it is one plain file of a sane size before reading it. */
  private async read(path: string): Promise<{ uid: number; mtime: Date; bytes: Buffer }> {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: unknown) => {
      throw errnoCode(err) === 'ELOOP' ? new Unusable('a symbolic link') : err;
    });
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new Unusable('not a regular file');
      // A hard link to someone else's file must not be mailed out in their name.
      if (info.nlink !== 1) throw new Unusable('a file with other hard links');
      if (info.size > this.options.maxMessageBytes + OVERHEAD_BYTES) throw new Unusable(`larger than ${this.options.maxMessageBytes} bytes`);
      return { uid: info.uid, mtime: info.mtime, bytes: await handle.readFile() };
    } finally {
      await handle.close();
    }
  }

  private async commit(submission: Extract<Submission, { ok: true }>, uid: number): Promise<boolean> {
    const envelope = {
      reversePath: submission.reversePath,
      recipients: submission.recipients,
      bodyType: submission.bodyType,
      client: { address: 'local', helo: `uid ${uid}`, ptr: null },
    };
    const opened = await this.options.intake.open(envelope);
    if (!opened.ok) return false;
    const { writer } = opened;
    const recipient = submission.recipients.length === 1 ? submission.recipients[0] : undefined;
    writer.body.write(Buffer.from(this.options.receivedHeader({ uid, queueId: writer.queueId, recipient, date: new Date() }), 'latin1'));
    writer.body.write(submission.data);
    const result = await writer.commit();
    if (!result.ok) return false;
    const from = submission.reversePath;
    this.options.logger.info({ queueId: writer.queueId, source: 'maildrop', uid, from, recipients: submission.recipients.length }, 'message accepted');
    return true;
  }

  private async removeIfAbandoned(name: string): Promise<void> {
    const path = join(this.options.dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > (this.options.abandonedAfterMs ?? 86_400_000)) {
      await unlink(path).catch(() => undefined);
      this.options.logger.info({ file: name }, 'abandoned maildrop file removed');
    }
  }

  /** Moves an unusable entry to corrupt/ (never deletes it) and logs why. */
  private async quarantine(name: string, problem: string): Promise<void> {
    const target = join(this.options.corruptDir, `maildrop.${name}`);
    try {
      await rename(join(this.options.dir, name), target);
      this.options.logger.error({ file: name, problem, movedTo: target }, 'maildrop file unusable; moved to corrupt');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.options.logger.error({ file: name, problem, err: errnoCode(err) }, 'maildrop file unusable and cannot be moved');
    }
  }
}
