// The messages between the supervisor and its workers over the IPC channel of child_process, and
// their validation on arrival. The config travels as a plain object (JSON over the channel), so a
// restarted worker gets the config in force, never a file that may have become invalid since.
import * as v from 'valibot';

/** The environment variable that makes the program a worker instead of the supervisor. */
export const ROLE_ENV = 'MTA_ROLE';

/** The roles of worker processes: SMTP workers take connections, relay workers are woken. */
export type WorkerRole = 'smtp' | 'relay';

/**
 * Supervisor to worker. 'start' tells an SMTP worker how many listening sockets it inherited
 * (from descriptor 4 on, in the order they were bound). A 'conn' message carries a socket the
 * supervisor accepted itself (during start-up) as its handle, and the index of the listening
 * socket that accepted it, so the worker can tell which service the client asked for; what that
 * service means is not the supervisor's business. 'admitted' answers an 'admit': the connection's
 * id, or the reply to refuse it with.
 */
export type ToWorker<C> =
  | { readonly type: 'start'; readonly config: C; readonly index: number; readonly count: number; readonly listeners: number }
  | { readonly type: 'config'; readonly config: C }
  | { readonly type: 'conn'; readonly id: number; readonly listener: number }
  | { readonly type: 'admitted'; readonly request: number; readonly id?: number; readonly refusal?: string }
  | { readonly type: 'wake'; readonly id: string }
  | { readonly type: 'drain'; readonly deadlineMs: number }
  /** Reopen the log file by its path: it was rotated. */
  | { readonly type: 'reopen-log' }
  /** Report the connections closed since the last report now: the supervisor holds one over a limit. */
  | { readonly type: 'report-closed' }
  /** The answer to a worker's 'count-message' with the same `request`. */
  | { readonly type: 'message-counted'; readonly request: number; readonly isWithinRate: boolean }
  /** Work for this worker from relay worker `from`, to be answered with 'answer' carrying `request` and `from`. */
  | { readonly type: 'ask'; readonly from: number; readonly request: number; readonly payload: unknown }
  /** The answer to this worker's 'ask'; no payload when the worker asked is gone or not running. */
  | { readonly type: 'answer'; readonly request: number; readonly payload?: unknown };

const fromWorkerSchema = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('listening'), listener: v.number() }),
  v.object({ type: v.literal('admit'), request: v.number(), address: v.string(), closed: v.optional(v.array(v.number())) }),
  v.object({ type: v.literal('closed'), ids: v.array(v.number()) }),
  v.object({ type: v.literal('wake'), id: v.string() }),
  v.object({ type: v.literal('count-message'), request: v.number(), address: v.string() }),
  v.object({ type: v.literal('ask'), worker: v.number(), request: v.number(), payload: v.unknown() }),
  v.object({ type: v.literal('answer'), worker: v.number(), request: v.number(), payload: v.unknown() }),
]);

/**
 * Worker to supervisor: ready to serve, listening on an inherited socket (the message carries
 * that socket's handle), may a connection from `address` be served (with the connections closed
 * since the last report), connections closed, wake
 * the relay workers for `id`, count a message from a client address against the rate the
 * supervisor keeps for all workers, or ask another relay worker (by index) for work and answer
 * such a question. The supervisor forwards questions and answers without reading their payload.
 */
export type FromWorker = v.InferOutput<typeof fromWorkerSchema>;

const toWorkerSchema = v.variant('type', [
  v.object({ type: v.literal('start'), config: v.unknown(), index: v.number(), count: v.number(), listeners: v.number() }),
  v.object({ type: v.literal('config'), config: v.unknown() }),
  v.object({ type: v.literal('conn'), id: v.number(), listener: v.number() }),
  v.object({ type: v.literal('admitted'), request: v.number(), id: v.optional(v.number()), refusal: v.optional(v.string()) }),
  v.object({ type: v.literal('wake'), id: v.string() }),
  v.object({ type: v.literal('drain'), deadlineMs: v.number() }),
  v.object({ type: v.literal('reopen-log') }),
  v.object({ type: v.literal('report-closed') }),
  v.object({ type: v.literal('message-counted'), request: v.number(), isWithinRate: v.boolean() }),
  v.object({ type: v.literal('ask'), from: v.number(), request: v.number(), payload: v.unknown() }),
  v.object({ type: v.literal('answer'), request: v.number(), payload: v.optional(v.unknown()) }),
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

/** Sends a message (and a handle) to the supervisor, if there is one; a closed channel is not an error here. */
export function tellSupervisor(message: FromWorker, handle?: object): void {
  // Typed for sockets and servers; child_process also sends the raw handle under a server.
  if (process.connected) process.send?.(message, handle as import('node:net').Server | undefined, {}, () => undefined);
}

/**
 * Questions to the supervisor, each waiting for the answer that carries its request number. A
 * question that cannot be sent, or that will never be answered (the supervisor is gone), is
 * settled with `unanswered`.
 */
class Questions<T> {
  private nextRequest = 0;
  private readonly waiting = new Map<number, (answer: T) => void>();

  constructor(private readonly unanswered: T) {}

  /** Sends the message `build` makes for a fresh request number; resolves with its answer. */
  protected ask(build: (request: number) => FromWorker): Promise<T> {
    if (!process.connected || !process.send) return Promise.resolve(this.unanswered);
    const request = ++this.nextRequest;
    return new Promise((resolve) => {
      this.waiting.set(request, resolve);
      process.send?.(build(request), undefined, {}, (err) => {
        if (err) this.answer(request, this.unanswered);
      });
    });
  }

  /** Settles the question with the answer that came back. */
  answer(request: number, answer: T): void {
    const resolve = this.waiting.get(request);
    this.waiting.delete(request);
    resolve?.(answer);
  }

  /** Settles every open question as unanswered: the supervisor will not answer any more. */
  abandon(): void {
    for (const request of [...this.waiting.keys()]) this.answer(request, this.unanswered);
  }
}

/**
 * Asks the supervisor to count messages per client address (max_message_rate) and waits for each
 * answer. Without a supervisor, or when it is gone, every message is let through: the worker is
 * then draining, and a rate is not worth losing mail for.
 */
export class MessageCounter extends Questions<boolean> {
  constructor() {
    super(true);
  }

  /** Counts a message from `address`; resolves whether it is within the rate. */
  count(address: string): Promise<boolean> {
    return this.ask((request) => ({ type: 'count-message', request, address }));
  }
}

/** The supervisor's answer to an 'admit': an id to serve the connection under, or the reply to refuse it with. */
export interface Admission {
  readonly id?: number;
  readonly refusal?: string;
}

/**
 * How long a close may go unreported when no new connection comes to carry it; also how long,
 * after the supervisor asked, closes are reported as they happen.
 */
const REPORT_CLOSED_MS = 1000;

/**
 * Asks the supervisor whether a connection this worker accepted may be served (the connection
 * limits hold across all workers). Without an answer the connection is not served: the worker is
 * then draining.
 *
 * Closes are reported lazily: with the next 'admit', or within REPORT_CLOSED_MS. A message of
 * its own per close cost the supervisor a wake-up per connection; an unreported close only makes
 * the supervisor's count high for a moment, never lets a limit be passed. When the supervisor
 * holds a connection over a limit it asks ('report-closed'): then the closes so far are reported
 * at once, and so is every close in the next REPORT_CLOSED_MS (the session the waiting client
 * has just ended may not have closed on this side yet).
 */
export class Admissions extends Questions<Admission> {
  private unreported: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private eagerUntilMs = 0;

  constructor() {
    super({});
  }

  /** Asks for a connection from `address`; resolves with the supervisor's answer. */
  admit(address: string): Promise<Admission> {
    const closed = this.takeUnreported();
    return this.ask((request) => ({ type: 'admit', request, address, ...(closed.length > 0 ? { closed } : {}) }));
  }

  /** Connection `id` (admitted, or handed over by the supervisor) has closed. */
  closed(id: number): void {
    this.unreported.push(id);
    if (Date.now() < this.eagerUntilMs) this.report();
    else this.timer ??= setTimeout(() => this.report(), REPORT_CLOSED_MS).unref();
  }

  /** The supervisor asks: reports the closes so far, and those of the next REPORT_CLOSED_MS as they happen. */
  reportNow(): void {
    this.eagerUntilMs = Date.now() + REPORT_CLOSED_MS;
    this.report();
  }

  private report(): void {
    const ids = this.takeUnreported();
    if (ids.length > 0) tellSupervisor({ type: 'closed', ids });
  }

  private takeUnreported(): number[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = this.unreported;
    this.unreported = [];
    return ids;
  }
}

/**
 * Questions from this relay worker to another, through the supervisor. An undefined answer means
 * the worker asked could not take the question (not running, or it died before answering);
 * callers must treat it as "try later".
 */
export class PeerQuestions extends Questions<unknown> {
  constructor() {
    super(undefined);
  }

  /** Asks relay worker `worker`; resolves with its answer, or undefined when there will be none. */
  askPeer(worker: number, payload: unknown): Promise<unknown> {
    return this.ask((request) => ({ type: 'ask', worker, request, payload }));
  }
}

/** Answers a question from relay worker `from`. */
export function answerPeer(from: number, request: number, payload: unknown): void {
  tellSupervisor({ type: 'answer', worker: from, request, payload });
}
