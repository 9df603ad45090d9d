// The messages between the supervisor and its workers over the IPC channel of child_process.
// The config travels as a plain object (JSON over the channel), so a restarted worker gets the
// config in force, never a file that may have become invalid since.
import type { Config } from '../config/types.js';

/** The environment variable that makes the program a worker instead of the supervisor. */
export const ROLE_ENV = 'MTA_ROLE';

export type WorkerRole = 'smtp' | 'relay';

/** Supervisor to worker. A 'conn' message carries the accepted socket as its handle. */
export type ToWorker =
  | { readonly type: 'start'; readonly config: Config; readonly index: number; readonly count: number }
  | { readonly type: 'config'; readonly config: Config }
  | { readonly type: 'conn'; readonly id: number }
  | { readonly type: 'wake'; readonly queueId: string }
  | { readonly type: 'drain'; readonly deadlineMs: number };

/** Worker to supervisor. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'closed'; readonly id: number }
  | { readonly type: 'queued'; readonly queueId: string };

/** Tells whether a value received on the channel has the shape of a message. */
export function isMessage<T extends { type: string }>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** Which of `count` relay workers owns a queue id: every message has exactly one runner. */
export function partitionOf(queueId: string, count: number): number {
  let hash = 0;
  for (let i = 0; i < queueId.length; i++) hash = (hash * 31 + queueId.charCodeAt(i)) >>> 0;
  return hash % count;
}

/** Sends a message to the supervisor, if there is one; a closed channel is not an error here. */
export function tellSupervisor(message: FromWorker): void {
  if (process.connected) process.send?.(message, undefined, {}, () => undefined);
}
