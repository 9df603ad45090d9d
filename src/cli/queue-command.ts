// `mta queue list|show|delete|flush`: operator commands on the on-disk queue. Safe while the
// daemon runs: every change is an atomic rename (an envelope rewritten under a temp name, a
// message directory renamed out of its state folder). Never runs recovery; the daemon does.
import { statSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { QueueRecipient } from '../queue/envelope.js';
import { isQueueId } from '../queue/queue-id.js';
import { QUEUE_STATES } from '../queue/states.js';
import type { QueueState } from '../queue/states.js';
import { QueueStore, readHeaders } from '../queue/store.js';
import type { StoredMessage } from '../queue/store.js';
import { dropPrivileges, type Identity } from '../system/privileges.js';

const EX_USAGE = 64;
const USAGE = 'usage: mta queue list | show ID | delete ID | flush';

/** Where a queue command writes, and its clock; tests pass their own. */
export interface QueueCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly nowMs: () => number;
}

const processIo: QueueCommandIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  nowMs: Date.now,
};

/** Runs one queue subcommand; resolves with the process exit code. */
export async function queueCommand(args: readonly string[], config: Config): Promise<number> {
  // Run as root on the daemon's queue, a rewritten envelope would be root's and 0600: unreadable
  // by the daemon, which would then move the message to corrupt/. Act as the queue's owner
  // instead, as Postfix's postsuper acts as mail_owner.
  const owner = queueOwner(process.getuid?.(), ownerOf(config.queue.root));
  try {
    if (owner !== undefined) dropPrivileges(owner);
  } catch (err) {
    process.stderr.write(`mta: queue: cannot act as the owner of ${config.queue.root}: ${(err as Error).message}\n`);
    return 1;
  }
  return runQueueCommand(args, config.queue.root, processIo);
}

/** Returns whom to act as: the queue root's owner when root runs the command on a queue it does not own. */
export function queueOwner(uid: number | undefined, root: { uid: number; gid: number } | undefined): Identity | undefined {
  if (uid !== 0 || root === undefined || root.uid === 0) return undefined;
  return { user: String(root.uid), uid: root.uid, gid: root.gid, group: String(root.gid) };
}

function ownerOf(path: string): { uid: number; gid: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined; // a missing queue: the command itself reports it
  }
}

/** Runs one queue subcommand on the queue at `root`, writing to `io`. */
export async function runQueueCommand(args: readonly string[], root: string, io: QueueCommandIo): Promise<number> {
  const store = new QueueStore(root);
  const [verb, id, ...rest] = args;
  try {
    if (verb === 'list' && id === undefined) return await list(store, io);
    if (verb === 'flush' && id === undefined) return await flush(store, io);
    if ((verb === 'show' || verb === 'delete') && id !== undefined && rest.length === 0) {
      const found = await find(store, id);
      if (found === undefined) {
        io.err(`mta: queue: no message "${id}"\n`);
        return 1;
      }
      return verb === 'show' ? await show(store, found, io) : await remove(store, found, io);
    }
  } catch (err) {
    io.err(`mta: queue: ${verb ?? ''}: ${(err as Error).message}\n`);
    return 1;
  }
  io.err(`${USAGE}\n`);
  return EX_USAGE;
}

async function find(store: QueueStore, input: string): Promise<{ state: QueueState; id: string } | undefined> {
  const id = input.toUpperCase();
  if (!isQueueId(id)) return undefined;
  const state = await store.find(id);
  return state === undefined ? undefined : { state, id };
}

async function list(store: QueueStore, io: QueueCommandIo): Promise<number> {
  let count = 0;
  let bytes = 0;
  for (const state of QUEUE_STATES) {
    for (const id of await store.ids(state)) {
      const loaded = await store.load(state, id);
      if (!loaded.ok) {
        io.out(`${id}  (unreadable: ${loaded.problem})\n`);
        continue;
      }
      count += 1;
      bytes += loaded.message.envelope.size;
      io.out(formatMessage(loaded.message, io.nowMs()));
    }
  }
  io.out(count === 0 ? 'Mail queue is empty\n' : `-- ${count} message${count === 1 ? '' : 's'}, ${bytes} bytes\n`);
  return 0;
}

/** Formats one message as `mta queue list` prints it: a summary line, then one line per recipient. */
export function formatMessage(message: StoredMessage, nowMs: number): string {
  const e = message.envelope;
  const age = formatAge(nowMs - Date.parse(e.arrivedAt));
  const head = `${e.queueId}  ${String(e.size).padStart(8)}  ${age.padStart(7)}  ${message.state.padEnd(8)}  <${e.reversePath}>\n`;
  return head + e.recipients.map((r) => `    ${r.address}  ${formatStatus(r, nowMs)}\n`).join('');
}

function formatStatus(r: QueueRecipient, nowMs: number): string {
  switch (r.status) {
    case 'pending':
      return 'pending';
    case 'delivered':
      return `delivered ${r.deliveredAt}`;
    case 'deferred': {
      const wait = Date.parse(r.nextAttemptAt) - nowMs;
      const when = wait <= 0 ? 'due now' : `next in ${formatAge(wait)}`;
      return `deferred, ${when}: ${formatReplyText(r.lastReply)}`;
    }
    case 'failed':
      return `failed: ${formatReplyText(r.lastReply)}`;
  }
}

function formatReplyText(r: { code: number; enhancedCode?: string; lines: readonly string[] }): string {
  return [String(r.code), r.enhancedCode, r.lines.join(' ')].filter((s) => s !== undefined && s !== '').join(' ');
}

/** Formats a duration as the two largest units, e.g. `2d 3h`, `5m 10s`. */
export function formatAge(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (unit === 's' && parts.length === 0)) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 2).join(' ');
}

async function show(store: QueueStore, found: { state: QueueState; id: string }, io: QueueCommandIo): Promise<number> {
  const loaded = await store.load(found.state, found.id);
  if (!loaded.ok) {
    io.err(`mta: queue: message "${found.id}" is unreadable: ${loaded.problem}\n`);
    return 1;
  }
  io.out(`State: ${found.state}\n${JSON.stringify(loaded.message.envelope, null, 2)}\n\n`);
  // LF line ends for a terminal.
  io.out(`${(await readHeaders(loaded.message.dataPath)).replaceAll('\r\n', '\n')}\n`);
  return 0;
}


async function remove(store: QueueStore, found: { state: QueueState; id: string }, io: QueueCommandIo): Promise<number> {
  await store.remove(found.state, found.id);
  io.out(`${found.id}: deleted\n`);
  return 0;
}

/** Makes every deferred recipient due now by rewriting its envelope (temp name, fsync, rename). */
async function flush(store: QueueStore, io: QueueCommandIo): Promise<number> {
  const now = new Date(io.nowMs()).toISOString();
  let flushed = 0;
  for (const message of await store.list()) {
    const e = message.envelope;
    if (!e.recipients.some((r) => r.status === 'deferred')) continue;
    const recipients = e.recipients.map((r) => (r.status === 'deferred' ? { ...r, nextAttemptAt: now } : r));
    try {
      await store.update(message, { ...e, recipients });
      flushed += 1;
    } catch (err) {
      // The runner moved or finished it meanwhile: nothing left to flush there.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await store.touchFlushTrigger();
  io.out(`${flushed} message${flushed === 1 ? '' : 's'} flushed; the daemon retries them within seconds\n`);
  return 0;
}
