// A raw SMTP client for tests: sends exact bytes and reads whole replies (multi-line aware),
// so tests can send what real clients never would (bare LF, split terminators, pipelined bursts).
// startTls() runs a TLS handshake over the same connection (after STARTTLS, or on an implicit TLS port).
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

/** One reply as received: its code and every line's text. */
export interface WireReply {
  readonly code: number;
  readonly lines: readonly string[];
  /** The final line as sent, e.g. `250 2.1.0 Sender OK`. */
  readonly last: string;
}

export class RawClient {
  private buffer = '';
  private readonly waiters: (() => void)[] = [];
  private isEnded = false;

  private readonly onData = (b: Buffer) => {
    this.buffer += b.toString('latin1');
    this.wake();
  };

  private constructor(private socket: net.Socket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('close', () => {
      this.isEnded = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /**
   * Runs the client side of a TLS handshake over this connection; replies are read from TLS from
   * then on. Rejects when the handshake fails. Bytes already received in the clear stay unread.
   */
  async startTls(options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    this.socket.off('data', this.onData);
    const secure = tls.connect({ rejectUnauthorized: false, ...options, socket: this.socket });
    await Promise.race([
      once(secure, 'secureConnect'),
      once(secure, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    this.listen(secure);
    return secure;
  }

  /** Bytes received and not yet read as replies. */
  get unread(): string {
    return this.buffer;
  }

  /** Connects to host:port, from `localAddress` when given (e.g. 127.0.0.2 to be a relay client). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, localAddress }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Writes bytes as given. */
  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** Reads the next complete reply; rejects when the server closes first or after `timeoutMs`. */
  async reply(timeoutMs = 30_000): Promise<WireReply> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.take();
      if (parsed) return parsed;
      if (this.isEnded) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no reply in time; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves once the server has closed the connection. */
  async closed(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.isEnded) {
      if (Date.now() > until) throw new Error('server did not close the connection');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private take(): WireReply | undefined {
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const end = this.buffer.indexOf('\r\n', offset);
      if (end < 0) return undefined;
      const line = this.buffer.slice(offset, end);
      offset = end + 2;
      lines.push(line.slice(4));
      if (line[3] !== '-') {
        this.buffer = this.buffer.slice(offset);
        return { code: Number(line.slice(0, 3)), lines, last: line };
      }
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
