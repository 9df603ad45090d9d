// `sendmail`: reads a message on stdin and leaves it in the maildrop folder for the daemon, which
// picks it up at once or when it next starts. Runs as the invoking user, with no privileges: the
// daemon learns who submitted from the file's owner. The message is checked here with the same
// code the daemon runs, so mistakes are reported at once with a sysexits.h status.
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../config/types.js';
import { fsyncPath, writeAll } from '../fsio/durable.js';
import { errnoCode } from '../fsio/errno.js';
import { prepareSubmission } from '../queue/local-submission.js';
import { DROP_PREFIX, DROP_TEMP_PREFIX, newDropName, serializeDrop, type DropRequest } from '../queue/maildrop-file.js';
import { userNameOf } from '../system/privileges.js';
import type { SendmailInvocation } from './sendmail-args.js';
import { EX_CANTCREAT, EX_CONFIG, EX_DATAERR, EX_TEMPFAIL, EX_USAGE } from './sysexits.js';
import { maildropDir } from './wiring.js';

/** The config sendmail, mailq and newaliases read unless -C names another. */
export const SYSTEM_CONFIG = '/etc/mta.conf';

/** Drop files are readable by the daemon's user; the 1733 folder keeps their names secret. */
const DROP_FILE_MODE = 0o644;

type SendInvocation = Extract<SendmailInvocation, { mode: 'send' }>;

/** Submits the message on `input`; resolves with the exit status. `load` reports its own failure. */
export async function sendmail(invocation: SendInvocation, load: (path: string) => Config | number, input: Readable): Promise<number> {
  const config = load(invocation.configPath ?? SYSTEM_CONFIG);
  if (typeof config === 'number') return EX_CONFIG;
  const limit = config.server.maxMessageBytes;
  const message = await readMessage(input, invocation.ignoreDots, limit);
  if (message === undefined) return fail(EX_DATAERR, `message is larger than ${limit} bytes`);
  const request: DropRequest = {
    sender: invocation.sender,
    fullName: invocation.fullName,
    recipients: invocation.recipients,
    extractRecipients: invocation.extractRecipients,
  };
  const uid = process.getuid?.() ?? 0;
  const facts = { userName: userNameOf(uid) ?? `uid-${uid}`, isTrusted: true, hostname: config.hostname, date: '', messageId: '', maxMessageBytes: limit };
  const check = prepareSubmission(request, message, facts);
  if (!check.ok) return fail(check.kind === 'usage' ? EX_USAGE : EX_DATAERR, check.problem);
  return drop(maildropDir(config), serializeDrop(request, message));
}

function fail(status: number, problem: string): number {
  process.stderr.write(`sendmail: ${problem}\n`);
  return status;
}

/**
 * Reads the message to the end of input or, unless `ignoreDots`, to a line holding a single dot
 * (what mailx and people typing expect). Undefined when it grows past `limitBytes`.
 */
async function readMessage(input: Readable, ignoreDots: boolean, limitBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  const dot = new DotLineFinder();
  for await (const chunk of input as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    const end = ignoreDots ? -1 : dot.find(chunk);
    if (end >= 0) return Buffer.concat(chunks).subarray(0, end);
    if (dot.offset > limitBytes) return undefined;
  }
  return Buffer.concat(chunks);
}

/** Finds, across chunks, the start of a line that is `.` alone (LF or CRLF ended). */
class DotLineFinder {
  /** Bytes seen so far. */
  offset = 0;
  private lineStart = 0;
  /** The first bytes of the current line (at most 3: enough to tell `.` and `.\r`). */
  private line: number[] = [];

  /** Returns the offset from the start of input where the dot line starts, or -1. */
  find(chunk: Buffer): number {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte !== 0x0a) {
        if (this.line.length < 3) this.line.push(byte);
        continue;
      }
      const [first, second] = this.line;
      if (first === 0x2e && (this.line.length === 1 || (this.line.length === 2 && second === 0x0d))) return this.lineStart;
      this.line = [];
      this.lineStart = this.offset + i + 1;
    }
    this.offset += chunk.length;
    return -1;
  }
}

/** Writes the drop file under a temp name, fsyncs it, and renames it into view. */
async function drop(dir: string, bytes: Buffer): Promise<number> {
  const name = newDropName(DROP_TEMP_PREFIX);
  const temp = path.join(dir, name);
  let isCreated = false;
  try {
    const handle = await open(temp, 'wx', DROP_FILE_MODE);
    isCreated = true;
    try {
      // Whatever the caller's umask: the daemon's user must be able to read it.
      await handle.chmod(DROP_FILE_MODE);
      await writeAll(handle, bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path.join(dir, DROP_PREFIX + name.slice(DROP_TEMP_PREFIX.length)));
    // Only the folder's owner may open it to fsync the rename; others rely on the file's fsync.
    await fsyncPath(dir).catch(() => undefined);
    return 0;
  } catch (err) {
    if (isCreated) await unlink(temp).catch(() => undefined);
    const code = errnoCode(err);
    const status = code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' ? EX_CANTCREAT : EX_TEMPFAIL;
    return fail(status, `cannot write to maildrop ${dir}: ${code}`);
  }
}
