// What happens to the queue at start: temp leftovers are removed (nothing in tmp/ was ever
// acknowledged), unreadable messages are moved to corrupt/ and logged, and every valid live
// message is returned for the runner to resume.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ENVELOPE_TEMP_PREFIX, idFromLiveName } from './queue-id.js';
import { QUEUE_STATES } from './states.js';
import type { QueueLogger, QueueState } from './states.js';
import type { QueueStore, StoredMessage } from './store.js';

/** What recover() found and did. */
export interface RecoveryReport {
  /** Valid live messages, in every state, for the runner to resume. */
  readonly resumed: readonly StoredMessage[];
  /** Paths under corrupt/ of the entries moved aside this time. */
  readonly quarantined: readonly string[];
  /** Number of entries removed from tmp/. */
  readonly removedTemp: number;
}

/**
 * Creates missing folders, removes temp leftovers and moves unreadable messages to corrupt/.
 * Run it once per start, before any process receives mail: tmp/ may hold a live spool otherwise.
 * Never throws for a bad message; throws only when the queue folders themselves cannot be read.
 */
export async function recoverQueue(store: QueueStore, logger?: QueueLogger): Promise<RecoveryReport> {
  await store.init();
  const removedTemp = await clearTmp(store);
  if (removedTemp > 0) logger?.info({ removed: removedTemp }, 'queue temp files removed');
  const resumed: StoredMessage[] = [];
  const quarantined: string[] = [];
  for (const state of QUEUE_STATES) {
    for (const name of (await readdir(store.folder(state))).sort()) {
      const message = await recoverEntry(store, state, name, logger);
      if (message === undefined) quarantined.push(await quarantine(store, state, name, logger));
      else resumed.push(message);
    }
  }
  logger?.info({ resumed: resumed.length, corrupt: quarantined.length }, 'queue recovered');
  return { resumed, quarantined, removedTemp };
}

async function clearTmp(store: QueueStore): Promise<number> {
  const names = await readdir(store.folder('tmp'));
  for (const name of names) await rm(join(store.folder('tmp'), name), { recursive: true, force: true });
  return names.length;
}

/** Loads one entry of a state folder; undefined when it must be moved aside. */
async function recoverEntry(
  store: QueueStore,
  state: QueueState,
  name: string,
  logger?: QueueLogger,
): Promise<StoredMessage | undefined> {
  const id = idFromLiveName(name);
  if (id === undefined) {
    logger?.error({ state, name }, 'queue entry has an unknown name');
    return undefined;
  }
  // An envelope rewrite interrupted before its rename leaves a temp file; the old envelope stands.
  const dir = store.messageDir(state, id);
  const names = await readdir(dir).catch(() => []);
  for (const stray of names.filter((n) => n.startsWith(ENVELOPE_TEMP_PREFIX))) {
    await rm(join(dir, stray), { force: true });
  }
  const loaded = await store.load(state, id);
  if (loaded.ok) return loaded.message;
  logger?.error({ queueId: id, state, problem: loaded.problem }, 'invalid envelope');
  return undefined;
}

async function quarantine(store: QueueStore, state: QueueState, name: string, logger?: QueueLogger): Promise<string> {
  const target = await store.quarantine(state, name);
  logger?.warn({ state, name, movedTo: target }, 'queue entry moved to corrupt');
  return target;
}

