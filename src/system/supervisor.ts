// The supervisor: runs unprivileged after start-up, owns the listening sockets and the log file.
// The SMTP workers inherit the listening sockets and accept on them, as cluster's workers do with
// SCHED_NONE; each asks here before it serves a connection, so the connection limits have one view
// across all workers. Until a worker accepts on a socket, this process does (start-up: nothing is
// read, pauseOnConnect) and hands what it accepted to a worker over IPC. Then it closes its own
// server, which would go on accepting, and keeps an idle copy of the socket for workers started
// later, so the socket stays open and connections wait in its backlog while every worker restarts.
// Signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reopens the log and reloads the config,
// SIGUSR1 only reopens the log. It knows no mail: the config is a type parameter, what it needs
// of it comes through `settings`, refusals are bytes and a reload is a callback.
import type net from 'node:net';
import { flushLogger, type Logger, type LogFile } from '../log/logger.js';
import { ConnectionGate } from './connection-gate.js';
import type { FromWorker, ToWorker, WorkerRole } from './ipc.js';
import { handleOf, type IdleListener, takeHeldConnections } from './listen.js';
import type { SignalCatcher } from './signals.js';
import { WorkerSlot } from './worker-slot.js';

/** How long a connection over a limit waits for a slot before its 421. */
const LIMIT_GRACE_MS = 250;

/** What the supervisor needs to know of a config. */
export interface SupervisorSettings {
  readonly smtpWorkers: number;
  readonly relayWorkers: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** New connections per client address per minute; 0 means no limit. */
  readonly maxConnectionRate: number;
  /** Messages per client address per minute, counted here for every worker; 0 means no limit. */
  readonly maxMessageRate: number;
  /** Addresses the rates never apply to. */
  readonly isRateExempt: (address: string) => boolean;
  readonly shutdownTimeoutMs: number;
  /** Sent to a connection over a limit before closing it (an SMTP 421). */
  readonly tooManyConnections: Buffer;
  /** Sent to a connection over max_connection_rate before closing it (an SMTP 421). */
  readonly connectionRateExceeded: Buffer;
  /** Sent to connections still waiting when the daemon stops (an SMTP 421). */
  readonly shuttingDown: Buffer;
}

export interface SupervisorOptions<C> {
  readonly config: C;
  readonly settings: (config: C) => SupervisorSettings;
  /** Reads the config again on SIGHUP: the config to use from now on, or undefined to keep the old one. */
  readonly reload: (current: C) => C | undefined;
  /** Cleans up after a worker that died (not one that exited 0 after draining). */
  readonly onWorkerDied?: (role: WorkerRole, pid: number) => void;
  /** Bound with pauseOnConnect before the privilege drop. */
  readonly servers: readonly net.Server[];
  readonly logFile: LogFile;
  readonly logger: Logger;
  /** The signals, caught from the first moment of start-up so that none has its default effect. */
  readonly signals: SignalCatcher;
}

/** A connection waiting to be admitted: one this process accepted, or one an SMTP worker asks about. */
interface Candidate {
  readonly address: string;
  admitted(id: number): void;
  refused(reply: Buffer): void;
}

/**
 * A listening socket: this process's server, accepting until an SMTP worker accepts on the socket;
 * then an idle copy of the socket, given to the workers started later.
 */
interface Listener {
  server?: net.Server;
  idle?: IdleListener;
}

export class Supervisor<C> {
  private config: C;
  private settings: SupervisorSettings;
  private readonly log: Logger;
  private readonly smtp: WorkerSlot<C>[] = [];
  private readonly relay: WorkerSlot<C>[] = [];
  private readonly gate: ConnectionGate;
  private readonly listeners: Listener[];
  /** Sockets accepted here during start-up while no SMTP worker was ready. */
  private waiting: { socket: net.Socket; id: number; listener: number }[] = [];
  /** Connections over a limit, waiting briefly for a close report that may be on its way. */
  private readonly held = new Set<Candidate>();
  private stopping = false;
  private turn = 0;
  /** Questions between relay workers not answered yet, by the index of the worker asked. */
  private readonly questions = new Map<number, Map<string, { from: number; request: number }>>();

  /** Takes the connections from now on, even before the workers exist; call right after binding. */
  constructor(private readonly options: SupervisorOptions<C>) {
    this.config = options.config;
    this.settings = options.settings(options.config);
    this.log = options.logger;
    this.gate = new ConnectionGate(this.settings);
    this.listeners = options.servers.map((server) => ({ server }));
    options.servers.forEach((server, listener) => {
      server.on('connection', (socket: net.Socket) => this.onConnection(socket, listener));
      server.on('error', (err) => this.log.error({ err: err.message }, 'listener error'));
      for (const socket of takeHeldConnections(server)) this.onConnection(socket, listener);
    });
  }

  /** Starts the workers and serves until SIGTERM/SIGINT; resolves with the exit code once drained. */
  async run(): Promise<number> {
    const events = {
      startMessage: (slot: WorkerSlot<C>): ToWorker<C> => {
        const listeners = slot.role === 'smtp' ? this.descriptors().length : 0;
        return { type: 'start', config: this.config, index: slot.index, count: this.relay.length, listeners };
      },
      inherited: (slot: WorkerSlot<C>) => (slot.role === 'smtp' ? this.descriptors() : []),
      onMessage: (slot: WorkerSlot<C>, message: FromWorker, handle: unknown) => this.onMessage(slot, message, handle),
      onExit: (slot: WorkerSlot<C>, pid: number | undefined, isClean: boolean) => {
        this.gate.releaseOwner(slot);
        this.retryHeld();
        if (slot.role === 'relay') this.unanswerable(slot.index);
        if (!isClean && pid !== undefined) this.options.onWorkerDied?.(slot.role, pid);
      },
    };
    const { logFile, logger } = this.options;
    for (let i = 0; i < this.settings.smtpWorkers; i++) this.smtp.push(new WorkerSlot('smtp', i, logFile, logger, events));
    for (let i = 0; i < this.settings.relayWorkers; i++) this.relay.push(new WorkerSlot('relay', i, logFile, logger, events));
    for (const slot of [...this.smtp, ...this.relay]) slot.start();
    this.options.signals.on('SIGHUP', () => this.reload());
    this.options.signals.on('SIGUSR1', () => this.reopenLog('SIGUSR1'));
    await this.shutdown(await this.options.signals.stop);
    return 0;
  }

  /** The listening sockets, in order, as descriptors for an SMTP worker to inherit (none once stopping). */
  private descriptors(): number[] {
    if (this.stopping) return [];
    return this.listeners.map((l) => l.idle?.fd ?? (l.server ? handleOf(l.server).fd : -1));
  }

  /** An SMTP worker accepts on listener `index` and lent its handle: keep one idle copy, stop accepting here. */
  private onListening(index: number, handle: unknown): void {
    const listener = this.listeners[index];
    const idle = handle as IdleListener | undefined;
    if (!idle) return;
    if (!listener || listener.idle || this.stopping) return idle.close();
    listener.idle = idle;
    listener.server?.close();
    delete listener.server;
  }

  private onConnection(socket: net.Socket, listener: number): void {
    socket.on('error', () => undefined);
    this.consider({
      address: socket.remoteAddress ?? '',
      admitted: (id) => this.dispatch(socket, id, listener),
      refused: (reply) => socket.end(reply),
    });
  }

  /** A connection an SMTP worker accepted: the answer goes to the process that asked, if it still runs. */
  private onAdmit(slot: WorkerSlot<C>, request: number, address: string): void {
    const pid = slot.pid;
    const answer = (message: ToWorker<C>) => slot.pid === pid && slot.send(message);
    this.consider({
      address,
      admitted: (id) => {
        this.gate.assign(id, slot);
        if (!answer({ type: 'admitted', request, id })) this.gate.release(id);
      },
      refused: (reply) => void answer({ type: 'admitted', request, refusal: reply.toString('latin1') }),
    });
  }

  private consider(candidate: Candidate): void {
    if (this.stopping) return candidate.refused(this.settings.shuttingDown);
    // A rate is about arrivals: refused at once, never held for a slot like the count limits.
    if (!this.gate.isWithinConnectionRate(candidate.address)) {
      this.log.warn({ ip: candidate.address, limit: this.settings.maxConnectionRate }, 'connection refused: rate limit');
      return candidate.refused(this.settings.connectionRateExceeded);
    }
    if (this.admit(candidate)) return;
    // Workers report closes lazily (ipc.ts Admissions), and a moment after the client saw them: a
    // client that just ended a session may already be back. Ask for the closes now, and wait
    // briefly for a slot before refusing.
    this.held.add(candidate);
    for (const slot of this.smtp) slot.send({ type: 'report-closed' });
    setTimeout(() => {
      if (!this.held.delete(candidate)) return;
      this.log.warn({ ip: candidate.address, connections: this.gate.size }, 'connection refused: limit reached');
      candidate.refused(this.settings.tooManyConnections);
    }, LIMIT_GRACE_MS);
  }

  private admit(candidate: Candidate): boolean {
    const id = this.gate.admit(candidate.address);
    if (id !== undefined) candidate.admitted(id);
    return id !== undefined;
  }

  /** Connections a worker reports closed: their slots go to what was held, oldest first. */
  private release(ids: readonly number[]): void {
    for (const id of ids) this.gate.release(id);
    if (ids.length > 0) this.retryHeld();
  }

  /** A slot came free: admit what was held, oldest first. */
  private retryHeld(): void {
    for (const candidate of this.held) if (this.admit(candidate)) this.held.delete(candidate);
  }

  /** Hands the socket to the next ready SMTP worker, or keeps it until one is ready. */
  private dispatch(socket: net.Socket, id: number, listener: number): void {
    const ready = this.smtp.filter((s) => s.ready);
    const slot = ready[this.turn++ % Math.max(1, ready.length)];
    if (!slot) {
      this.waiting.push({ socket, id, listener });
      return;
    }
    this.gate.assign(id, slot);
    const sent = slot.send({ type: 'conn', id, listener }, socket, () => this.lost(slot, socket, id, listener));
    if (!sent) this.lost(slot, socket, id, listener);
  }

  /**
   * The worker went away between choosing it and the hand-over (killed, before its exit was
   * seen): it takes nothing more, and the client goes to another worker, or waits for one.
   */
  private lost(slot: WorkerSlot<C>, socket: net.Socket, id: number, listener: number): void {
    slot.ready = false;
    if (socket.destroyed) return void this.gate.release(id);
    this.dispatch(socket, id, listener);
  }

  private onMessage(slot: WorkerSlot<C>, message: FromWorker, handle: unknown): void {
    if (message.type === 'admit' && slot.role === 'smtp') {
      this.release(message.closed ?? []);
      this.onAdmit(slot, message.request, message.address);
    } else if (message.type === 'listening') this.onListening(message.listener, handle);
    else if (message.type === 'closed') this.release(message.ids);
    else if (message.type === 'count-message') {
      slot.send({ type: 'message-counted', request: message.request, isWithinRate: this.gate.isWithinMessageRate(message.address) });
    } else if (message.type === 'wake') for (const relay of this.relay) relay.send({ type: 'wake', id: message.id });
    else if (message.type === 'ask' || message.type === 'answer') this.forward(slot, message);
    else if (message.type === 'ready' && slot.role === 'smtp') {
      const waiting = this.waiting;
      this.waiting = [];
      for (const w of waiting) this.dispatch(w.socket, w.id, w.listener);
    }
  }

  /** Passes a question to the relay worker asked, and its answer back; a question nobody can take is answered empty. */
  private forward(slot: WorkerSlot<C>, message: Extract<FromWorker, { type: 'ask' | 'answer' }>): void {
    if (slot.role !== 'relay') return;
    const peer = this.relay[message.worker];
    if (message.type === 'answer') {
      // Only to the process that asked: one restarted since counts its requests afresh.
      if (this.questions.get(slot.index)?.delete(`${message.worker} ${message.request}`)) peer?.send({ type: 'answer', request: message.request, payload: message.payload });
    } else if (peer?.ready && peer.send({ type: 'ask', from: slot.index, request: message.request, payload: message.payload })) {
      const open = this.questions.get(peer.index) ?? new Map<string, { from: number; request: number }>();
      this.questions.set(peer.index, open.set(`${slot.index} ${message.request}`, { from: slot.index, request: message.request }));
    } else {
      slot.send({ type: 'answer', request: message.request });
    }
  }

  /** The relay worker `index` is gone: every question it had is answered empty, and its own questions are forgotten. */
  private unanswerable(index: number): void {
    for (const q of this.questions.get(index)?.values() ?? []) this.relay[q.from]?.send({ type: 'answer', request: q.request });
    this.questions.delete(index);
    for (const open of this.questions.values()) for (const [key, q] of open) if (q.from === index) open.delete(key);
  }

  private reopenLog(signal: string): void {
    this.options.logFile.reopen();
    for (const slot of [...this.smtp, ...this.relay]) slot.send({ type: 'reopen-log' });
    this.log.info({ signal, file: this.options.logFile.file }, 'log file reopened');
  }

  private reload(): void {
    this.reopenLog('SIGHUP');
    const next = this.options.reload(this.config);
    if (!next) return;
    this.config = next;
    this.settings = this.options.settings(next);
    this.gate.setLimits(this.settings);
    for (const slot of [...this.smtp, ...this.relay]) slot.send({ type: 'config', config: next });
  }

  /** Stops accepting, drains every worker (killing stragglers), then writes out every log line. */
  private async shutdown(signal: string): Promise<void> {
    this.log.info({ signal, open: this.gate.size }, 'shutting down');
    this.stopping = true;
    // The workers close their servers as they drain.
    for (const listener of this.listeners) {
      listener.server?.close();
      listener.idle?.close();
    }
    for (const candidate of this.held) candidate.refused(this.settings.shuttingDown);
    for (const w of this.waiting) w.socket.end(this.settings.shuttingDown);
    this.waiting = [];
    this.held.clear();
    // SMTP workers first: a message they accept while draining may wake a relay worker.
    await Promise.all(this.smtp.map((s) => s.drain(this.settings.shutdownTimeoutMs)));
    await Promise.all(this.relay.map((s) => s.drain(this.settings.shutdownTimeoutMs)));
    await Promise.all([...this.smtp, ...this.relay].map((s) => s.logsDone()));
    this.log.info('stopped');
    await flushLogger(this.log);
  }
}
