// One worker place in the supervisor: starts the process, forwards its log lines, restarts it with
// backoff when it dies, and drains it at shutdown. Restarts back off from 0.1 s, doubling to 30 s,
// and the delay resets once a worker has run for a minute; crashes in a row are logged as errors
// with their count so that a crash loop is visible and slow rather than silent and hot.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger, LogFile } from '../log/logger.js';
import { forEachLine, forEachLines } from '../log/logger.js';
import { type FromWorker, parseFromWorker, ROLE_ENV, type ToWorker, type WorkerRole } from './ipc.js';
import { selfCommand } from './self-exec.js';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 30_000;
const STABLE_AFTER_MS = 60_000;
/** Crashes in a row from which each restart is logged as an error. */
const CRASH_LOOP = 3;

export interface SlotEvents<C> {
  /** The message that starts the worker: the config in force and its place among its role. */
  startMessage(slot: WorkerSlot<C>): ToWorker<C>;
  /** Descriptors the worker inherits from descriptor 4 on (an SMTP worker's listening sockets). */
  inherited(slot: WorkerSlot<C>): readonly number[];
  /** A message from the worker, with the handle it carries, if any. */
  onMessage(slot: WorkerSlot<C>, message: FromWorker, handle: unknown): void;
  /** The process `pid` is gone (before any restart): forget what it was serving, clean up after it. */
  onExit(slot: WorkerSlot<C>, pid: number | undefined, isClean: boolean): void;
}

/** A worker process place: the current child, if any, and its restart state. */
export class WorkerSlot<C> {
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private delayMs = FIRST_DELAY_MS;
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();
  private readonly pipes: Promise<void>[] = [];
  /** True between the worker's 'ready' message and its exit. */
  ready = false;

  constructor(
    readonly role: WorkerRole,
    readonly index: number,
    private readonly logFile: LogFile,
    private readonly logger: Logger,
    private readonly events: SlotEvents<C>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const self = selfCommand();
    const child = spawn(self.file, [...self.args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', ...this.events.inherited(this)],
      env: { ...process.env, [ROLE_ENV]: this.role },
      // Its own process group: a Ctrl-C on the terminal reaches only the supervisor, which drains.
      detached: true,
    });
    this.child = child;
    this.startedAt = Date.now();
    if (child.stdout) this.pipes.push(forEachLines(child.stdout, (text) => this.logFile.writeLines(text)));
    if (child.stderr) this.pipes.push(forEachLine(child.stderr, (line) => this.logger.error({ role: this.role, worker: child.pid, line }, 'worker stderr')));
    child.on('message', (value: unknown, handle: unknown) => {
      const message = parseFromWorker(value);
      if (!message) return;
      if (message.type === 'ready') this.ready = true;
      this.events.onMessage(this, message, handle);
    });
    child.on('error', (err) => this.logger.error({ role: this.role, err: err.message }, 'cannot start worker'));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(this.onExit(child, code, signal))));
    // Sent at once: the channel keeps order, so a 'drain' sent later can never overtake it.
    this.send(this.events.startMessage(this));
    child.once('spawn', () => this.logger.info({ role: this.role, index: this.index, worker: child.pid }, 'worker started'));
  }

  /** Sends a message (and a socket) to the worker; false when it is not there to receive it. */
  send(message: ToWorker<C>, socket?: import('node:net').Socket, onError?: () => void): boolean {
    const child = this.child;
    if (!child?.connected) return false;
    child.send(message, socket, {}, (err) => {
      if (err) onError?.();
    });
    return true;
  }

  /** Asks the worker to drain; kills it if it has not exited `deadlineMs` later. */
  async drain(deadlineMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.send({ type: 'drain', deadlineMs });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs + 5_000)));
    if ((await Promise.race([this.exited, late])) === 'late') {
      this.logger.warn({ role: this.role, worker: child.pid }, 'worker did not stop in time; killing it');
      child.kill('SIGKILL');
      await this.exited;
    }
    clearTimeout(timer);
  }

  /** Resolves once every line the workers wrote, including the dead ones, has been forwarded. */
  async logsDone(): Promise<void> {
    await Promise.all(this.pipes);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.ready = false;
    this.events.onExit(this, child.pid, code === 0);
    const uptimeMs = Date.now() - this.startedAt;
    const fields = { role: this.role, index: this.index, worker: child.pid, code, signal, uptimeMs };
    if (this.stopping) return void this.logger.info(fields, 'worker exited');
    if (uptimeMs >= STABLE_AFTER_MS) {
      this.delayMs = FIRST_DELAY_MS;
      this.crashes = 0;
    }
    this.crashes++;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, MAX_DELAY_MS);
    if (this.crashes >= CRASH_LOOP) this.logger.error({ ...fields, crashes: this.crashes, restartInMs: delayMs }, 'worker keeps crashing');
    else this.logger.warn({ ...fields, restartInMs: delayMs }, 'worker exited; restarting');
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.start();
    }, delayMs);
  }
}
