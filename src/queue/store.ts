// The queue on disk: one directory per message (`m.<ID>/` holding `data` and `envelope`) in a
// state folder. A message enters, changes state and leaves by renaming its whole directory,
// so every step is atomic and a crash never leaves half a message live. No scheduling here.
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnvelope, serializeEnvelope } from './envelope.js';
import type { QueueEnvelope } from './envelope.js';
import { syncDirectory } from '../fsio/directory-sync.js';
import { createFile, fsyncPath, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, renameSynced, writeFileSynced } from '../fsio/durable.js';
import {
  DATA_FILE,
  ENVELOPE_FILE,
  ENVELOPE_TEMP_PREFIX,
  idFromLiveName,
  isSpoolOf,
  liveName,
  newQueueId,
  spoolName,
  tempName,
} from './queue-id.js';
import { folderFor, QUEUE_STATES } from './states.js';
import type { QueueLogger, QueueState } from './states.js';

/** A live message: where it is and what its envelope says. */
export interface StoredMessage {
  readonly state: QueueState;
  readonly envelope: QueueEnvelope;
  /** Path of the data file (CRLF line ends, as received). */
  readonly dataPath: string;
}

/** A message being received into tmp/; not live until committed. */
export interface Spool {
  readonly queueId: string;
  readonly dir: string;
  readonly dataPath: string;
  /** The open data file's descriptor, written by the receiver and closed by it before commit. */
  readonly fd: number;
}

/** A loaded message, or why it could not be loaded. */
export type LoadResult = { readonly ok: true; readonly message: StoredMessage } | { readonly ok: false; readonly problem: string };

/** Reads and writes the queue under one root directory. */
export class QueueStore {
  constructor(
    readonly root: string,
    private readonly logger?: QueueLogger,
  ) {}

  /** Returns the path of a folder of the queue (a state, `tmp` or `corrupt`). */
  folder(name: QueueState | 'tmp' | 'corrupt'): string {
    return join(this.root, name);
  }

  /** The file `mta queue flush` touches to make the runner read the queue again. */
  get flushTrigger(): string {
    return join(this.root, 'flush');
  }

  /** Tells a running daemon to read the queue again (after envelopes were changed behind its back). */
  async touchFlushTrigger(): Promise<void> {
    await writeFile(this.flushTrigger, `${Date.now()}\n`, { mode: PRIVATE_FILE_MODE });
  }

  /** Creates the root and its folders if missing. */
  async init(): Promise<void> {
    for (const name of ['tmp', 'corrupt', ...QUEUE_STATES] as const) {
      await mkdir(this.folder(name), { recursive: true, mode: PRIVATE_DIR_MODE });
    }
  }

  /** Starts receiving a message: a fresh id and an open data file in `tmp/t.<ID>/`. */
  async createSpool(): Promise<Spool> {
    const queueId = newQueueId();
    const dir = join(this.folder('tmp'), spoolName(queueId, process.pid));
    await mkdir(dir, { mode: PRIVATE_DIR_MODE });
    const dataPath = join(dir, DATA_FILE);
    try {
      return { queueId, dir, dataPath, fd: await createFile(dataPath) };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Makes a received message live: fsyncs the data, writes and fsyncs the envelope, fsyncs the
   * message directory, renames it into its state folder and fsyncs that folder (one fsync shared
   * by the commits meanwhile). Returns the state.
   */
  async commitSpool(spool: Spool, envelope: QueueEnvelope): Promise<QueueState> {
    const state = folderFor(envelope);
    if (state === 'done') throw new RangeError(`Cannot queue message "${spool.queueId}": no recipient left`);
    await fsyncPath(spool.dataPath);
    await writeFileSynced(join(spool.dir, ENVELOPE_FILE), serializeEnvelope(envelope));
    await fsyncPath(spool.dir);
    // Only the destination folder is fsync'd: a tmp/ entry resurrected by a crash is removed
    // by recovery, so the source folder's fsync would buy nothing on the commit path.
    await rename(spool.dir, this.messageDir(state, spool.queueId));
    await syncDirectory(this.folder(state));
    return state;
  }

  /** Deletes the spools a dead process left half-received in tmp/; returns how many. */
  async discardSpoolsOf(pid: number): Promise<number> {
    const names = (await readdir(this.folder('tmp'))).filter((name) => isSpoolOf(name, pid));
    for (const name of names) await rm(join(this.folder('tmp'), name), { recursive: true, force: true });
    return names.length;
  }

  /** Deletes a spool that will not be committed; never throws. */
  async discardSpool(spool: Spool): Promise<void> {
    await removeMessageDir(spool.dir).catch(() => undefined);
  }

  /** Returns the directory a live message has in a state folder. */
  messageDir(state: QueueState, queueId: string): string {
    return join(this.folder(state), liveName(queueId));
  }

  /** Finds a live message by id in any state folder; undefined when there is none. */
  async find(queueId: string): Promise<QueueState | undefined> {
    for (const state of QUEUE_STATES) {
      if (await exists(this.messageDir(state, queueId))) return state;
    }
    return undefined;
  }

  /** Loads and validates the message in a state folder. */
  async load(state: QueueState, queueId: string): Promise<LoadResult> {
    const dir = this.messageDir(state, queueId);
    let text: string;
    try {
      text = await readFile(join(dir, ENVELOPE_FILE), 'utf8');
    } catch (err) {
      return { ok: false, problem: `Cannot read envelope: ${(err as Error).message}` };
    }
    const parsed = parseEnvelope(text);
    if (!parsed.ok) return parsed;
    if (parsed.envelope.queueId !== queueId) return { ok: false, problem: `Envelope names another message: "${parsed.envelope.queueId}"` };
    const dataPath = join(dir, DATA_FILE);
    if (!(await exists(dataPath))) return { ok: false, problem: 'Cannot find the data file' };
    return { ok: true, message: { state, envelope: parsed.envelope, dataPath } };
  }

  /** Lists the ids of the live messages in a state folder (names that are not ids are skipped). */
  async ids(state: QueueState): Promise<string[]> {
    const names = await readdir(this.folder(state));
    return names.map(idFromLiveName).filter((id): id is string => id !== undefined).sort();
  }

  /** Loads every valid live message; invalid ones are logged and left for recover(). */
  async list(): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for (const state of QUEUE_STATES) {
      for (const id of await this.ids(state)) {
        const loaded = await this.load(state, id);
        if (loaded.ok) out.push(loaded.message);
        else this.logger?.warn({ queueId: id, state, problem: loaded.problem }, 'queue message unreadable');
      }
    }
    return out;
  }

  /**
   * Rewrites a message's envelope (temp name, fsync, rename, directory fsync), then moves the
   * message to the folder its new state calls for, or removes it when nothing is left to do.
   */
  async update(message: StoredMessage, envelope: QueueEnvelope): Promise<QueueState | 'done'> {
    const id = envelope.queueId;
    const next = folderFor(envelope);
    if (next === 'done') {
      await this.remove(message.state, id);
      return next;
    }
    const dir = this.messageDir(message.state, id);
    const temp = join(dir, ENVELOPE_TEMP_PREFIX + newQueueId());
    try {
      await writeFileSynced(temp, serializeEnvelope(envelope));
      await renameSynced(temp, join(dir, ENVELOPE_FILE));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    if (next !== message.state) await renameSynced(dir, this.messageDir(next, id));
    return next;
  }

  /**
   * Removes a live message: renamed out of its state folder first, so removal is atomic. Only
   * the state folder is fsync'd (an fsync shared with the removals meanwhile): an entry in tmp/
   * that a crash brings back is deleted by recovery.
   */
  async remove(state: QueueState, queueId: string): Promise<void> {
    const doomed = join(this.folder('tmp'), `${tempName(queueId)}.removed.${newQueueId()}`);
    await rename(this.messageDir(state, queueId), doomed);
    await syncDirectory(this.folder(state));
    await removeMessageDir(doomed);
  }

  /** Moves an entry of a state folder to corrupt/, keeping it for an operator to inspect. */
  async quarantine(state: QueueState, name: string): Promise<string> {
    const target = join(this.folder('corrupt'), `${name}.${Date.now()}`);
    await renameSynced(join(this.folder(state), name), target);
    return target;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** How much of a data file is read looking for the end of its header section. */
const HEADER_READ_BYTES = 64 * 1024;

/** The header section of a stored message (up to the empty line, at most 64 KiB), CRLF line ends. */
export async function readHeaders(dataPath: string): Promise<string> {
  const handle = await open(dataPath, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_READ_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.indexOf('\r\n\r\n');
    return end < 0 ? text.replace(/\r\n$/, '') : text.slice(0, end);
  } finally {
    await handle.close();
  }
}

/** Deletes a message directory: its two files and itself, or whatever else it holds the slow way. */
async function removeMessageDir(dir: string): Promise<void> {
  await Promise.all([DATA_FILE, ENVELOPE_FILE].map((name) => unlink(join(dir, name)).catch(() => undefined)));
  await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
}
