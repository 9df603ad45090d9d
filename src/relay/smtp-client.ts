// One outbound SMTP connection: connect with a deadline, read replies with a deadline per stage
// (RFC 5321 4.5.3.2), write commands, upgrade to TLS (STARTTLS), stream a stored message through
// the dot-stuffer. A broken connection, a timeout or a malformed reply is a RelayError carrying
// the reason; the caller turns it into a transient outcome. No decisions about mail here.
import { once } from 'node:events';
import { createReadStream, readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { DotStuffer } from '../smtp/dot-stuffing.js';
import { type ReadReply, ReplyReader } from '../smtp/reply-reader.js';
import type { Reply } from '../smtp/reply.js';

/** Messages up to this size are read whole before DATA rather than streamed. */
const READ_AT_ONCE_BYTES = 256 * 1024;

/** Why a connection could not be used; `stage` says when (for logs and the deferral text). */
export class RelayError extends Error {
  readonly code = 'MTA_ERR_RELAY';
  constructor(
    readonly stage: string,
    readonly reason: string,
  ) {
    super(`${stage}: ${reason}`);
  }
}

/** Client timeouts (RFC 5321 4.5.3.2). */
export interface ClientTimeouts {
  readonly connectMs: number;
  readonly greetingMs: number;
  /** MAIL, RCPT, EHLO, RSET, STARTTLS, QUIT. */
  readonly commandMs: number;
  readonly dataMs: number;
  /** Each block of message data written. */
  readonly dataBlockMs: number;
  readonly dataEndMs: number;
}

/** An open connection to one server address. */
export class SmtpClient {
  private reader = new ReplyReader();
  private readonly replies: ReadReply[] = [];
  private waiter: (() => void) | undefined;
  private closedReason: string | undefined;
  /** The TLS protocol and cipher once STARTTLS succeeded. */
  tlsInfo: { readonly protocol: string; readonly cipher: string } | undefined;
  /** Messages sent over this connection. */
  messages = 0;

  private constructor(
    private socket: net.Socket,
    readonly address: string,
    readonly port: number,
    private readonly timeouts: ClientTimeouts,
  ) {
    this.attach(socket);
  }

  /** Connects to `address:port` within the connect timeout. */
  static async connect(address: string, port: number, timeouts: ClientTimeouts): Promise<SmtpClient> {
    const socket = net.connect({ host: address, port, noDelay: true });
    try {
      await withDeadline(once(socket, 'connect'), timeouts.connectMs, 'connect');
    } catch (err) {
      socket.destroy();
      throw err instanceof RelayError ? err : new RelayError('connect', errorText(err));
    }
    return new SmtpClient(socket, address, port, timeouts);
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  /** Reads the next reply within `timeoutMs`. */
  async read(stage: string, timeoutMs = this.timeouts.commandMs): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closedReason !== undefined) throw new RelayError(stage, this.closedReason);
      const left = deadline - Date.now();
      if (left <= 0) throw new RelayError(stage, 'timeout');
      await withDeadline(new Promise<void>((resolve) => (this.waiter = resolve)), left, stage).finally(() => (this.waiter = undefined));
    }
    const next = this.replies.shift() as ReadReply;
    if (next.kind === 'malformed') throw new RelayError(stage, `malformed reply: ${JSON.stringify(next.line)}`);
    return next.reply;
  }

  /** Reads the greeting. */
  greeting(): Promise<Reply> {
    return this.read('greeting', this.timeouts.greetingMs);
  }

  /** Writes command lines (CRLF added), waiting for the socket to drain if it must. */
  async send(...lines: string[]): Promise<void> {
    await this.write(Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'utf8'), this.timeouts.commandMs);
  }

  /**
   * Sends a message (a stored file or bytes; CRLF line ends) as DATA content, dot-stuffed, with
   * the final dot. A file of known size up to 256 KiB is read at once (a synchronous read of a
   * file just written costs less than the thread-pool round trips of a stream); a larger one is
   * streamed. The pieces of each block go out in one write (cork).
   */
  async sendData(message: string | Buffer, sizeBytes?: number): Promise<void> {
    const stuffer = new DotStuffer();
    const whole = typeof message !== 'string' ? message : sizeBytes !== undefined && sizeBytes <= READ_AT_ONCE_BYTES ? readFileSync(message) : undefined;
    const chunks: AsyncIterable<Buffer> | Buffer[] = whole ? [whole] : createReadStream(message as string, { highWaterMark: 64 * 1024 });
    for await (const chunk of chunks) await this.writeParts(stuffer.push(chunk));
    await this.writeParts(stuffer.end());
  }

  /** Writes pieces as one write; waits only when the socket asks to (backpressure). */
  private async writeParts(parts: readonly Buffer[]): Promise<void> {
    if (this.closedReason !== undefined) throw new RelayError('write', this.closedReason);
    this.socket.cork();
    let isFull = false;
    for (const part of parts) isFull = !this.socket.write(part) || isFull;
    this.socket.uncork();
    if (isFull) await withDeadline(Promise.race([once(this.socket, 'drain'), once(this.socket, 'close')]), this.timeouts.dataBlockMs, 'write');
  }

  /** Upgrades the connection to TLS after a 220 to STARTTLS; `verify` checks the certificate and name. */
  async startTls(servername: string, verify: boolean): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, servername: net.isIP(servername) ? undefined : servername, rejectUnauthorized: verify, minVersion: 'TLSv1.2' });
    try {
      await withDeadline(once(secure, 'secureConnect'), this.timeouts.commandMs, 'STARTTLS handshake');
    } catch (err) {
      secure.destroy();
      throw err instanceof RelayError ? err : new RelayError('STARTTLS handshake', errorText(err));
    }
    // Anything the server sent before the handshake is discarded (RFC 3207 4.2).
    this.reader = new ReplyReader();
    this.replies.length = 0;
    this.socket = secure;
    this.attach(secure);
    this.tlsInfo = { protocol: secure.getProtocol() ?? 'unknown', cipher: secure.getCipher().name };
  }

  /** Sends QUIT, waits briefly for its reply, and closes. */
  async quit(): Promise<void> {
    if (this.isOpen) {
      await this.send('QUIT')
        .then(() => this.read('QUIT'))
        .catch(() => undefined);
    }
    this.close();
  }

  close(): void {
    this.closedReason ??= 'closed by us';
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (bytes: Buffer) => {
      this.replies.push(...this.reader.push(bytes));
      this.waiter?.();
    });
    socket.on('error', (err) => this.onClose(errorText(err)));
    socket.on('close', () => this.onClose('connection closed by the server'));
  }

  private onClose(reason: string): void {
    this.closedReason ??= reason;
    this.waiter?.();
  }

  private async write(bytes: Buffer, timeoutMs: number): Promise<void> {
    if (this.closedReason !== undefined) throw new RelayError('write', this.closedReason);
    if (this.socket.write(bytes)) return;
    await withDeadline(Promise.race([once(this.socket, 'drain'), once(this.socket, 'close')]), timeoutMs, 'write');
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, stage: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new RelayError(stage, 'timeout')), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err instanceof Error ? err.message : String(err);
  // Node's codes name the failure (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT); the message says which host or name, when it adds anything.
  return code === undefined || message.includes(code) ? message : message === '' ? code : `${code}: ${message}`;
}
