// What happens to the queue at start: temp leftovers are removed (nothing in tmp/ was ever
// acknowledged), unreadable messages are moved to corrupt/ and logged, and the valid live
// messages are counted; the runner reads them again itself when it starts.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ENVELOPE_TEMP_PREFIX, idFromLiveName } from './queue-id.js';
import { QUEUE_STATES } from './states.js';
import type { QueueLogger, QueueState } from './states.js';
import type { QueueStore } from './store.js';

/** What recover() found and did. */
export interface RecoveryReport {
  /** Valid live messages, in every state, that the runner resumes. */
  readonly resumed: number;
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
  let resumed = 0;
  const quarantined: string[] = [];
  for (const state of QUEUE_STATES) {
    for (const name of (await readdir(store.folder(state))).sort()) {
      if (await isValidEntry(store, state, name, logger)) resumed += 1;
      else quarantined.push(await quarantine(store, state, name, logger));
    }
  }
  logger?.info({ resumed, corrupt: quarantined.length }, 'queue recovered');
  return { resumed, quarantined, removedTemp };
}

async function clearTmp(store: QueueStore): Promise<number> {
  const names = await readdir(store.folder('tmp'));
  for (const name of names) await rm(join(store.folder('tmp'), name), { recursive: true, force: true });
  return names.length;
}

/** Checks one entry of a state folder; false when it must be moved aside. */
async function isValidEntry(store: QueueStore, state: QueueState, name: string, logger?: QueueLogger): Promise<boolean> {
  const id = idFromLiveName(name);
  if (id === undefined) {
    logger?.error({ state, name }, 'queue entry has an unknown name');
    return false;
  }
  // An envelope rewrite interrupted before its rename leaves a temp file; the old envelope stands.
  const dir = store.messageDir(state, id);
  const names = await readdir(dir).catch(() => []);
  for (const stray of names.filter((n) => n.startsWith(ENVELOPE_TEMP_PREFIX))) {
    await rm(join(dir, stray), { force: true });
  }
  const loaded = await store.load(state, id);
  if (!loaded.ok) logger?.error({ queueId: id, state, problem: loaded.problem }, 'invalid envelope');
  return loaded.ok;
}

async function quarantine(store: QueueStore, state: QueueState, name: string, logger?: QueueLogger): Promise<string> {
  const target = await store.quarantine(state, name);
  logger?.warn({ state, name, movedTo: target }, 'queue entry moved to corrupt');
  return target;
}

