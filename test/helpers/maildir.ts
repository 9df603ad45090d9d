// Reads what the server under test delivered: Maildir files under <root>/<domain>/<user>/new/
// and queued messages under <queue>/incoming/. Waiting polls with a deadline, never sleeps blind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The new/ folder of one mailbox under a maildir root. */
export function newFolder(maildirRoot: string, address: string): string {
  const [user = '', domain = ''] = address.split('@');
  return path.join(maildirRoot, domain.toLowerCase(), user, 'new');
}

/** Lists the message files in a folder (full paths, sorted); none when it does not exist. */
export function listFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .sort()
    .map((name) => path.join(folder, name));
}

/** Polls until `count()` reaches `want` or the deadline passes; resolves with the last count. */
export async function waitForCount(count: () => number, want: number, deadlineMs = 20_000): Promise<number> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const n = count();
    if (n >= want || Date.now() > until) return n;
    await new Promise((r) => setTimeout(r, 50)); // a pause between polls
  }
}

/** Polls until `condition()` holds or the deadline passes; resolves with whether it held. */
export async function waitUntil(condition: () => boolean, deadlineMs = 10_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50)); // a pause between polls
  }
}

/** Waits for `want` files in a folder and returns them (fewer if the deadline passed). */
export async function waitForFiles(folder: string, want = 1, deadlineMs = 20_000): Promise<string[]> {
  await waitForCount(() => listFiles(folder).length, want, deadlineMs);
  return listFiles(folder);
}

/** The unfolded header section of a delivered message, with its body. */
export interface DeliveredMessage {
  readonly raw: string;
  readonly headers: string;
  readonly body: string;
  /** The first Received header, unfolded to one line. */
  readonly received: string;
}

/** Reads and splits a delivered Maildir file (LF line ends). */
export function readMessage(file: string): DeliveredMessage {
  const raw = readFileSync(file, 'utf8');
  const cut = raw.indexOf('\n\n');
  const headers = cut < 0 ? raw : raw.slice(0, cut + 1);
  const body = cut < 0 ? '' : raw.slice(cut + 2);
  const unfolded = headers.replace(/\n[ \t]+/g, ' ');
  const received = unfolded.split('\n').find((l) => l.startsWith('Received:')) ?? '';
  return { raw, headers, body, received };
}

/** The ids of messages waiting in the queue's incoming/ or deferred/ folder (folder names are m.<ID>). */
export function queuedIds(queueRoot: string): string[] {
  return ['incoming', 'deferred'].flatMap((state) => {
    const folder = path.join(queueRoot, state);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((n) => n.startsWith('m.'))
      .map((n) => n.slice(2));
  });
}

/**
 * Reads a file (`data` or `envelope`) of a queued message from incoming/ or deferred/: the relay
 * may move it from one to the other (a first attempt deferred) at any moment, even between a
 * look and the read, so both are tried a few times.
 */
export function readQueued(queueRoot: string, queueId: string, file: 'data' | 'envelope'): string {
  for (let attempt = 0; attempt < 5; attempt++) {
    for (const state of ['incoming', 'deferred']) {
      try {
        return readFileSync(path.join(queueRoot, state, `m.${queueId}`, file), 'latin1');
      } catch {
        // Not there, or moved on meanwhile: look again.
      }
    }
  }
  throw new Error(`message ${queueId} is in neither incoming/ nor deferred/ of ${queueRoot}`);
}
