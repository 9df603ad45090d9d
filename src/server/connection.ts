// One client connection: feeds socket bytes through the body router to the pure session,
// performs its actions (message counts, recipient checks, opening and committing messages, DATA
// and BDAT streaming, the STARTTLS handshake, AUTH checks) and owns the clock: stage timers, the
// minimum data rate and the greeting delay. Bytes are processed strictly in order: the socket is
// paused while a chunk is being handled, so pipelined commands after DATA become data only once
// 354 has been sent, and it stays paused while the client leaves its replies unread. Bytes before
// the greeting are read and dropped: they mark an early talker (RFC 5321 3.1), which the session
// refuses. STARTTLS swaps the socket for a TLSSocket over the same connection; what the client
// pipelined after STARTTLS is dropped, never read as a command.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { DecodeProblem } from '../smtp/data-decoder.js';
import { formatReply, type Reply, replies } from '../smtp/reply.js';
import type { Authenticator } from './authenticator.js';
import { BodyRouter, type RoutedItem } from './body-router.js';
import { checkCredentials } from './credentials.js';
import { DataPace } from './data-pace.js';
import type { IncomingEnvelope, MessageSink, MessageWriter } from './message-sink.js';
import { countRead } from './read-buffers.js';
import { buildReceivedHeader } from './received-header.js';
import { Session } from './session.js';
import type { ClientInfo, DataOutcome, ListenerInfo, SessionAction, SessionEvent, SessionOptions, SessionOutput, TlsInfo } from './session-types.js';
import { type ServerTlsOptions, upgradeToTls } from './tls-upgrade.js';

/** Stage timeouts (RFC 5321 4.5.3.2) and the cap on a whole session. */
export interface ConnectionTimeouts {
  readonly commandMs: number;
  readonly dataBlockMs: number;
  readonly dataEndMs: number;
  readonly sessionMs: number;
  /** The TLS handshake after STARTTLS. */
  readonly tlsHandshakeMs: number;
}

/** What every connection shares; built once by the listener. */
export interface ConnectionOptions {
  readonly session: SessionOptions;
  readonly sink: MessageSink;
  readonly timeouts: ConnectionTimeouts;
  readonly bareLinefeed: 'reject' | 'normalize';
  readonly now: () => Date;
  /**
   * Slowest average DATA/BDAT rate in bytes per second (Postfix's smtpd_min_data_rate): each read
   * of N bytes moves the data deadline N / rate seconds on, never past dataBlockMs from now.
   * 0 restarts dataBlockMs on every read instead. @default 0
   */
  readonly minDataRate?: number;
  /** How long after accept the greeting waits, to catch clients that talk first. @default 0 */
  readonly greetingDelayMs?: number;
  /** Counts a MAIL from the client address against max_message_rate; resolves false when over. */
  readonly countMessage?: (address: string) => Promise<boolean>;
  /** The contexts STARTTLS and implicit TLS use; undefined when no certificate is configured. */
  readonly tls?: ServerTlsOptions;
  /** Checks AUTH credentials; undefined when AUTH is off. */
  readonly authenticator?: Authenticator;
}

type Mode = 'command' | 'data' | 'closed';

/**
 * Replies the client has not read yet, in bytes, beyond which we stop reading its commands: a
 * client that pipelines without reading must not grow our memory (the command timer still runs).
 */
const MAX_UNSENT_BYTES = 64 * 1024;

/** Serves one accepted socket until it closes. */
export class Connection {
  private readonly session: Session;
  private readonly router: BodyRouter;
  private mode: Mode = 'command';
  private writer: MessageWriter | undefined;
  /** What the open message is, for the log line once it is stored. */
  private message: { reversePath: string; recipients: number } | undefined;
  private stageTimer: NodeJS.Timeout | undefined;
  private readonly sessionTimer: NodeJS.Timeout;
  /** The socket replies go to: the accepted one, or the TLSSocket over it after STARTTLS. */
  private socket: Socket;
  /** Resolves when the last reply written so far has been handed to the kernel. */
  private written: Promise<void> = Promise.resolve();
  private clientAddress = '';
  /** The negotiated TLS session, for the Received header. */
  private tls: TlsInfo | undefined;
  /** Who the client logged in as, for the log. */
  private login: string | undefined;
  /** Between the 220 to STARTTLS and the end of the handshake: nothing may be written then. */
  private isHandshaking = false;
  private greetingTimer: NodeJS.Timeout | undefined;
  /** When the greeting may go out: accept time plus greetingDelayMs. */
  private readonly greetAtMs: number;
  private isGreeted = false;
  private hasTalkedEarly = false;
  /** Set while a message's data is being received, when minDataRate is on. */
  private pace: DataPace | undefined;
  private readonly onData = (bytes: Buffer) => this.onBytes(bytes);
  private readonly onClose: () => void;
  /** Resolves once the socket has closed and the partial message, if any, is dropped. */
  readonly closed: Promise<void>;

  constructor(
    socket: Socket,
    private readonly options: ConnectionOptions,
    private readonly log: Logger,
  ) {
    this.socket = socket;
    this.session = new Session(options.session);
    this.router = new BodyRouter({ maxMessageBytes: options.session.maxMessageBytes, bareLinefeed: options.bareLinefeed });
    this.sessionTimer = setTimeout(() => this.onTimeout('session'), options.timeouts.sessionMs);
    let isClosed = false;
    let resolveClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    // The TCP socket or the TLSSocket over it, whichever reports the close first.
    this.onClose = () => {
      if (isClosed) return;
      isClosed = true;
      void this.cleanup().then(resolveClosed);
    };
    this.greetAtMs = Date.now() + (options.greetingDelayMs ?? 0);
    this.listen(socket);
  }

  /**
   * Greets the client once the listener knows who it is (and on which port, over what TLS) and
   * the greeting delay has passed.
   */
  start(client: ClientInfo, listener?: ListenerInfo): void {
    this.clientAddress = client.address;
    this.tls = listener?.tls ?? undefined;
    const greet = () => this.greet(client, listener);
    const waitMs = this.greetAtMs - Date.now();
    if (waitMs <= 0) return greet();
    this.greetingTimer = setTimeout(greet, waitMs);
  }

  private greet(client: ClientInfo, listener: ListenerInfo | undefined): void {
    if (this.mode === 'closed') return;
    this.isGreeted = true;
    if (this.hasTalkedEarly) this.log.info({ delayMs: this.options.greetingDelayMs ?? 0 }, 'early talker refused');
    void this.feed({ type: 'connected', client, listener, hasTalkedEarly: this.hasTalkedEarly });
    this.armStage();
  }

  /** Reads `socket` from now on; paused until the bytes in hand are handled (or the greeting is sent). */
  private listen(socket: Socket): void {
    this.socket = socket;
    socket.once('close', this.onClose);
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('data', this.onData);
    // The first socket is read from accept, to catch early talkers; a TLSSocket starts paused
    // until the bytes in hand are handled.
    if (this.isGreeted) socket.pause();
  }

  /** Asks the session to end: idle sessions get 421 now, a message in progress finishes first. */
  shutdown(): void {
    if (this.mode === 'closed') return;
    void this.feed({ type: 'shutdown' });
  }

  /** Ends the connection at once (the drain deadline passed). */
  destroy(): void {
    this.socket.destroy();
  }

  private onBytes(bytes: Buffer): void {
    // Before the greeting: the client has not waited for its turn. Read and drop, so that the
    // refusal is not lost to a reset caused by unread bytes when we close.
    if (!this.isGreeted) {
      this.hasTalkedEarly = true;
      return;
    }
    if (this.mode === 'closed') return;
    countRead(bytes.length);
    this.socket.pause();
    this.disarmStage();
    if (this.mode === 'data' && this.pace?.credit(bytes.length, Date.now()) === false) return void this.onTooSlow();
    const startedMs = Date.now();
    this.consume(bytes)
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        if (this.mode === 'closed') return;
        // Our own time (disk, backpressure) is not the client's: it does not count against the rate.
        this.pace?.excuse(Date.now() - startedMs);
        this.armStage();
        this.socket.resume();
      });
  }

  /** Starts the data deadline of a message (DATA, or its first BDAT chunk) when min_data_rate is on. */
  private startPace(): void {
    const rate = this.options.minDataRate ?? 0;
    if (rate === 0 || this.pace) return;
    this.pace = new DataPace(rate, this.options.timeouts.dataBlockMs, Date.now());
  }

  /** Handles every item the bytes complete; a mode switch applies to the very next byte. */
  private async consume(bytes: Buffer): Promise<void> {
    this.router.push(bytes);
    for (let item = this.router.next(); item && this.mode !== 'closed'; item = this.router.next()) {
      await this.route(item);
      if (this.socket.writableLength > MAX_UNSENT_BYTES) await this.waitForClientToRead();
    }
  }

  private async route(item: RoutedItem): Promise<void> {
    switch (item.kind) {
      case 'command': {
        const c = item.item;
        // Inside a SASL exchange a line is a credential: it goes to the session, never to the log.
        if (c.kind === 'line' && this.session.isSaslOpen) return this.feed({ type: 'auth-response', line: c.line });
        if (c.kind === 'line') this.log.debug({ line: redact(c.line) }, 'command');
        return this.feed(c.kind === 'line' ? { type: 'line', line: c.line } : { type: c.kind === 'too-long' ? 'line-too-long' : 'bare-linefeed' });
      }
      case 'body':
        return this.writeBody(item.buffers);
      case 'data-end':
        this.pace = undefined;
        return this.finishMessage(item.problem);
      case 'chunk-end':
        // A discarded chunk ends its own pace; a message's chunks share one until the last.
        if (item.isLast || item.isDiscarded) this.pace = undefined;
        if (item.isLast && !item.isDiscarded) return this.finishMessage(item.problem);
        this.mode = 'command';
        return this.feed({ type: 'chunk-received', bytes: item.bytes });
    }
  }

  /** Waits, under the command timer, until the client has read enough of its replies (or is gone). */
  private async waitForClientToRead(): Promise<void> {
    this.armStage();
    await Promise.race([once(this.socket, 'drain'), this.closed]).catch(() => undefined);
    this.disarmStage();
  }

  /** Commits the message (or drops it on a problem) and tells the session how it ended. */
  private async finishMessage(problem: DecodeProblem | undefined): Promise<void> {
    this.mode = 'command';
    const writer = this.writer;
    this.writer = undefined;
    let outcome: DataOutcome;
    if (problem || !writer) {
      await writer?.abort();
      outcome = problem ? { kind: problem === 'bare-lf' ? 'bare-linefeed' : problem } : { kind: 'failed', reply: replies.localError() };
    } else {
      outcome = await this.commit(writer);
    }
    const m = this.message;
    this.message = undefined;
    const fields = { from: m?.reversePath, rcpts: m?.recipients, login: this.login };
    if (outcome.kind === 'stored') this.log.info({ queueId: outcome.queueId, ...fields }, 'message accepted');
    else this.log.info({ outcome: outcome.kind, ...fields }, 'message refused');
    await this.feed({ type: 'data-finished', outcome });
  }

  /**
   * Commits and answers by the outcome, however long it takes: a message that reaches the disk
   * is answered 250 (or logged as accepted if the client left), never 451, or the client's retry
   * would duplicate it. A commit slower than data_end is logged: the client may give up waiting.
   */
  private async commit(writer: MessageWriter): Promise<DataOutcome> {
    const overdue = setTimeout(() => this.log.error({ afterMs: this.options.timeouts.dataEndMs }, 'commit overdue'), this.options.timeouts.dataEndMs);
    try {
      writer.body.end();
      const r = await writer.commit();
      return r.ok ? { kind: 'stored', queueId: r.queueId } : { kind: 'failed', reply: r.reply };
    } catch (err) {
      this.log.error({ err: errorText(err) }, 'cannot store message');
      await writer.abort().catch(() => undefined);
      return { kind: 'failed', reply: replies.localError() };
    } finally {
      clearTimeout(overdue);
    }
  }

  private async writeBody(buffers: readonly Buffer[]): Promise<void> {
    const body = this.writer?.body;
    if (!body) return;
    for (const b of buffers) if (!body.write(b)) await once(body, 'drain');
  }

  /** Hands one event to the session and performs what it answers. */
  private async feed(event: SessionEvent): Promise<void> {
    await this.perform(this.session.handle(event));
  }

  private async perform(out: SessionOutput): Promise<void> {
    // Past the soft error limit every reply waits (Postfix's smtpd_error_sleep_time).
    if (out.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, out.delayMs));
    this.send(out.replies);
    for (const action of out.actions) await this.act(action);
  }

  private send(list: readonly Reply[]): void {
    if (list.length === 0 || this.socket.destroyed) return;
    for (const r of list) this.log.debug({ code: r.code, enhancedCode: r.enhancedCode, text: r.lines[0] }, 'reply');
    const socket = this.socket;
    this.written = new Promise((resolve) => socket.write(list.map(formatReply).join(''), () => resolve()));
  }

  private async act(action: SessionAction): Promise<void> {
    switch (action.kind) {
      case 'count-message':
        return this.feed({ type: 'message-counted', refusal: await this.countMessage() });
      case 'check-recipient':
        return this.feed({ type: 'recipient-checked', refusal: await this.checkRecipient(action.forwardPath) });
      case 'open-message':
        return this.openMessage(action.envelope, action.protocol);
      case 'receive-data':
        this.router.receiveData(action.maxBytes);
        this.mode = 'data';
        this.startPace();
        return;
      case 'receive-chunk':
        this.router.receiveChunk(action.bytes, action.last, action.discard);
        this.mode = 'data';
        this.startPace();
        return;
      case 'abort-message':
        // The BDAT decoder belongs to the message: the next one starts from a clean state.
        this.pace = undefined;
        this.router.abortMessage();
        await this.writer?.abort();
        this.writer = undefined;
        return;
      case 'close':
        this.close();
        return;
      case 'start-tls':
        return this.startTls();
      case 'verify-credentials':
        return this.verifyCredentials(action);
    }
  }

  /** Asks whether the client is within max_message_rate; a failed question lets the message through. */
  private async countMessage(): Promise<Reply | undefined> {
    const isWithin = await (this.options.countMessage?.(this.clientAddress) ?? Promise.resolve(true)).catch(() => true);
    if (isWithin) return undefined;
    this.log.warn('message rate limit exceeded');
    return replies.tooMuchMail(this.clientAddress);
  }

  /**
   * Drops what the client pipelined after STARTTLS (RFC 3207 5: CVE-2011-0411), lets the 220 go
   * out in the clear, then runs the handshake over the same connection and reads the TLSSocket
   * from then on. A failed handshake is logged and closes the connection.
   */
  private async startTls(): Promise<void> {
    const dropped = this.router.discardInput();
    if (dropped > 0) this.log.info({ bytes: dropped }, 'discarded input pipelined after STARTTLS');
    const tlsOptions = this.options.tls;
    if (!tlsOptions) throw new Error('start-tls without TLS contexts');
    const plain = this.socket;
    plain.off('data', this.onData);
    await this.written;
    this.isHandshaking = true;
    const result = await upgradeToTls(plain, tlsOptions, this.options.timeouts.tlsHandshakeMs);
    this.isHandshaking = false;
    if (!result.ok) {
      this.log.info({ reason: result.reason }, 'TLS handshake failed');
      this.mode = 'closed';
      plain.destroy();
      return;
    }
    this.listen(result.socket);
    this.tls = result.info;
    // The session forgets a login made before STARTTLS (RFC 3207 4.2); so does the log.
    this.login = undefined;
    this.log.info({ tls: result.info.protocol, cipher: result.info.cipher }, 'TLS started');
    await this.feed({ type: 'tls-started', tls: result.info });
  }

  /** Asks the authenticator; logs the login and the outcome, never the password. */
  private async verifyCredentials({ mechanism, login, password }: Extract<SessionAction, { kind: 'verify-credentials' }>): Promise<void> {
    const verdict = await checkCredentials(this.options.authenticator, { mechanism, login, password, clientAddress: this.clientAddress }, this.log);
    if (verdict.kind === 'accepted') this.login = verdict.login;
    await this.feed({ type: 'credentials-checked', verdict });
  }

  private async checkRecipient(forwardPath: string): Promise<Reply | undefined> {
    try {
      return await this.options.sink.checkRecipient(forwardPath);
    } catch (err) {
      this.log.error({ err: errorText(err), rcpt: forwardPath }, 'cannot check recipient');
      return replies.localError();
    }
  }

  private async openMessage(envelope: IncomingEnvelope, protocol: string): Promise<void> {
    const opened = await this.options.sink.open(envelope).catch((err: unknown) => {
      this.log.error({ err: errorText(err) }, 'cannot open message');
      return { ok: false as const, reply: replies.localError() };
    });
    if (!opened.ok) return this.feed({ type: 'message-open-failed', reply: opened.reply });
    this.writer = opened.writer;
    this.message = { reversePath: envelope.reversePath, recipients: envelope.recipients.length };
    const header = buildReceivedHeader({
      helo: envelope.client.helo,
      ptr: envelope.client.ptr,
      clientAddress: envelope.client.address,
      hostname: this.options.session.hostname,
      protocol,
      queueId: this.writer.queueId,
      recipient: envelope.recipients.length === 1 ? envelope.recipients[0] : undefined,
      tls: this.tls,
      date: this.options.now(),
    });
    await this.writeBody([Buffer.from(header, 'utf8')]);
    await this.feed({ type: 'message-opened', queueId: this.writer.queueId });
  }

  private onTimeout(stage: string): void {
    if (this.mode === 'closed') return;
    this.log.info({ stage }, 'timeout');
    // A 421 in the clear would break the handshake under way: just cut the connection.
    if (this.isHandshaking) return void this.socket.destroy();
    void this.feed({ type: 'timeout' });
  }

  private onTooSlow(): void {
    if (this.mode === 'closed') return;
    this.log.info({ minDataRate: this.options.minDataRate }, 'data rate too low');
    void this.feed({ type: 'data-too-slow' });
  }

  private armStage(): void {
    this.disarmStage();
    const t = this.options.timeouts;
    const pace = this.mode === 'data' ? this.pace?.remaining(Date.now()) : undefined;
    if (pace) {
      // Nothing more arrived before the deadline: idle for data_block, or behind the rate.
      this.stageTimer = setTimeout(pace.isIdle ? () => this.onTimeout('data') : () => this.onTooSlow(), pace.ms);
      return;
    }
    const ms = this.mode === 'command' ? t.commandMs : t.dataBlockMs;
    this.stageTimer = setTimeout(() => this.onTimeout(this.mode), ms);
  }

  private disarmStage(): void {
    if (this.stageTimer) clearTimeout(this.stageTimer);
    this.stageTimer = undefined;
  }

  private close(): void {
    this.mode = 'closed';
    this.disarmStage();
    // Closed for good once the last reply and our FIN are out, as Postfix does: what the client
    // sends after that (often a reset) is not read, which spares an error object per session.
    this.socket.end(() => this.socket.destroy());
    // A client that never reads its last reply must not hold the connection open.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private fail(err: unknown): void {
    this.log.error({ err: errorText(err) }, 'session failed');
    if (this.mode !== 'closed' && !this.socket.destroyed) this.socket.write(formatReply(replies.localError()));
    this.close();
  }

  private async cleanup(): Promise<void> {
    this.mode = 'closed';
    this.disarmStage();
    clearTimeout(this.sessionTimer);
    clearTimeout(this.greetingTimer);
    const writer = this.writer;
    this.writer = undefined;
    await writer?.abort().catch(() => undefined);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Keeps AUTH payloads out of the log (STYLE §9): `AUTH PLAIN dGVzdA==` is logged as `AUTH PLAIN ***`. */
function redact(line: string): string {
  const auth = /^(auth)(?:\s+(\S+))?/i.exec(line);
  return auth ? `${auth[1]} ${auth[2] ? `${auth[2]} ` : ''}***` : line;
}
