// The messages between the supervisor and its workers over the IPC channel of child_process, and
// their validation on arrival. The config travels as a plain object (JSON over the channel), so a
// restarted worker gets the config in force, never a file that may have become invalid since.
import * as v from 'valibot';

/** The environment variable that makes the program a worker instead of the supervisor. */
export const ROLE_ENV = 'MTA_ROLE';

/** The roles of worker processes: SMTP workers take connections, relay workers are woken. */
export type WorkerRole = 'smtp' | 'relay';

/**
 * Supervisor to worker. A 'conn' message carries the accepted socket as its handle, and the index
 * of the listening socket that accepted it (in the order they were bound), so the worker can tell
 * which service the client asked for; what that service means is not the supervisor's business.
 */
export type ToWorker<C> =
  | { readonly type: 'start'; readonly config: C; readonly index: number; readonly count: number }
  | { readonly type: 'config'; readonly config: C }
  | { readonly type: 'conn'; readonly id: number; readonly listener: number }
  | { readonly type: 'wake'; readonly id: string }
  | { readonly type: 'drain'; readonly deadlineMs: number };

const fromWorkerSchema = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('closed'), id: v.number() }),
  v.object({ type: v.literal('wake'), id: v.string() }),
]);

/** Worker to supervisor: ready to serve, a connection closed, or wake the relay workers for `id`. */
export type FromWorker = v.InferOutput<typeof fromWorkerSchema>;

const toWorkerSchema = v.variant('type', [
  v.object({ type: v.literal('start'), config: v.unknown(), index: v.number(), count: v.number() }),
  v.object({ type: v.literal('config'), config: v.unknown() }),
  v.object({ type: v.literal('conn'), id: v.number(), listener: v.number() }),
  v.object({ type: v.literal('wake'), id: v.string() }),
  v.object({ type: v.literal('drain'), deadlineMs: v.number() }),
]);

/** Returns a message from a worker, or undefined when it is not one. */
export function parseFromWorker(value: unknown): FromWorker | undefined {
  const parsed = v.safeParse(fromWorkerSchema, value);
  return parsed.success ? parsed.output : undefined;
}

/** Returns a message from the supervisor, or undefined when it is not one; the config is the sender's. */
export function parseToWorker<C>(value: unknown): ToWorker<C> | undefined {
  const parsed = v.safeParse(toWorkerSchema, value);
  return parsed.success ? (parsed.output as ToWorker<C>) : undefined;
}

/** Sends a message to the supervisor, if there is one; a closed channel is not an error here. */
export function tellSupervisor(message: FromWorker): void {
  if (process.connected) process.send?.(message, undefined, {}, () => undefined);
}
