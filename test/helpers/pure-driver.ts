// Drives the pure Session from a client's byte stream without sockets, framed by the same body
// router the connection uses: command lines until DATA/BDAT, then data until CRLF.CRLF or exactly
// the BDAT size. Every action succeeds (recipients accepted, messages stored as "TESTID") unless
// the test overrides it.
import { BodyRouter, type RoutedItem } from '../../src/server/body-router.js';
import type { DecodeProblem } from '../../src/smtp/data-decoder.js';
import type { Reply } from '../../src/smtp/reply.js';
import { Session } from '../../src/server/session.js';
import type { SessionEvent, SessionOptions, SessionOutput, DataOutcome, ListenerInfo } from '../../src/server/session-types.js';
import type { AuthVerdict } from '../../src/server/authenticator.js';

export const TEST_OPTIONS: SessionOptions = {
  hostname: 'mx.test',
  maxMessageBytes: 10_000,
  maxRecipients: 5,
  maxErrors: 10,
  isLocal: (p) => p.toLowerCase() === 'postmaster' || p.toLowerCase().endsWith('@example.org'),
};

export interface DriverHooks {
  /** Answers `count-message` (max_message_rate); undefined lets the MAIL through. */
  countMessage?: () => Reply | undefined;
  checkRecipient?: (forwardPath: string) => Reply | undefined;
  dataOutcome?: (body: string) => DataOutcome;
  /** The authenticator's verdict; every attempt is rejected unless a test says otherwise. */
  verify?: (login: string, password: string) => AuthVerdict;
}

/** Feeds bytes and events to a Session and records every reply it sends. */
export class PureDriver {
  readonly session: Session;
  readonly replies: Reply[] = [];
  /** How long the listener would wait before each of `replies` (the output's delayMs, on its first reply). */
  readonly delaysMs: number[] = [];
  readonly bodies: string[] = [];
  isClosed = false;
  /** Bytes dropped at each STARTTLS (what the client pipelined after it). */
  readonly discardedAtStartTls: number[] = [];
  /** Every verify-credentials action, password included (the listener must never log it). */
  readonly attempts: { login: string; password: string }[] = [];
  private readonly router: BodyRouter;
  private body: Buffer[] = [];

  constructor(
    options: SessionOptions = TEST_OPTIONS,
    private readonly hooks: DriverHooks = {},
  ) {
    this.session = new Session(options);
    this.router = new BodyRouter({ maxMessageBytes: options.maxMessageBytes, bareLinefeed: 'reject' });
  }

  connect(address = '192.0.2.1', mayRelay = false, listener?: ListenerInfo, hasTalkedEarly = false): this {
    this.event({ type: 'connected', client: { address, ptr: null, mayRelay, isLoopback: address === '127.0.0.1' }, listener, hasTalkedEarly });
    return this;
  }

  /** Sends client bytes (a string as UTF-8, lone U+DC80..U+DCFF as the raw byte); replies accumulate in `replies`. */
  send(bytes: string | Buffer): this {
    this.router.push(typeof bytes === 'string' ? surrogateEscapedBytes(bytes) : bytes);
    for (let item = this.router.next(); item && !this.isClosed; item = this.router.next()) this.route(item);
    return this;
  }

  /** Feeds one event directly. */
  event(e: SessionEvent): void {
    this.perform(this.session.handle(e));
  }

  /** The last line of each reply so far, e.g. `250 2.1.0 Sender OK`. */
  lastLines(): string[] {
    return this.replies.map((r) => `${r.code}${r.enhancedCode ? ` ${r.enhancedCode}` : ''} ${r.lines.at(-1)}`);
  }

  private route(item: RoutedItem): void {
    switch (item.kind) {
      case 'command': {
        const c = item.item;
        if (c.kind === 'line' && this.session.isSaslOpen) return this.event({ type: 'auth-response', line: c.line });
        return this.event(c.kind === 'line' ? { type: 'line', line: c.line } : { type: c.kind === 'too-long' ? 'line-too-long' : 'bare-linefeed' });
      }
      case 'body':
        this.body.push(...item.buffers);
        return;
      case 'data-end':
        return this.finish(item.problem);
      case 'chunk-end':
        if (item.isLast && !item.isDiscarded) return this.finish(item.problem);
        return this.event({ type: 'chunk-received', bytes: item.bytes });
    }
  }

  private finish(problem: DecodeProblem | undefined): void {
    const body = Buffer.concat(this.body).toString('utf8');
    this.body = [];
    if (problem) return this.event({ type: 'data-finished', outcome: { kind: problem === 'bare-lf' ? 'bare-linefeed' : problem } });
    this.bodies.push(body);
    this.event({ type: 'data-finished', outcome: this.hooks.dataOutcome?.(body) ?? { kind: 'stored', queueId: 'TESTID' } });
  }

  private perform(out: SessionOutput): void {
    this.replies.push(...out.replies);
    this.delaysMs.push(...out.replies.map((_, i) => (i === 0 ? out.delayMs : 0)));
    for (const a of out.actions) {
      switch (a.kind) {
        case 'count-message':
          this.event({ type: 'message-counted', refusal: this.hooks.countMessage?.() });
          break;
        case 'check-recipient':
          this.event({ type: 'recipient-checked', refusal: this.hooks.checkRecipient?.(a.forwardPath) });
          break;
        case 'open-message':
          this.event({ type: 'message-opened', queueId: 'TESTID' });
          break;
        case 'receive-data':
          this.router.receiveData(a.maxBytes);
          break;
        case 'receive-chunk':
          this.router.receiveChunk(a.bytes, a.last, a.discard);
          break;
        case 'close':
          this.isClosed = true;
          break;
        case 'abort-message':
          this.router.abortMessage();
          this.body = [];
          break;
        case 'start-tls':
          this.discardedAtStartTls.push(this.router.discardInput());
          this.event({ type: 'tls-started', tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } });
          break;
        case 'verify-credentials':
          this.attempts.push({ login: a.login, password: a.password });
          this.event({
            type: 'credentials-checked',
            verdict: this.hooks.verify?.(a.login, a.password) ?? { kind: 'rejected', reason: 'unknown-user', delayMs: 0 },
          });
          break;
      }
    }
  }
}

/** Encodes a string as UTF-8, turning each lone surrogate U+DC80..U+DCFF back into its byte (PEP 383). */
function surrogateEscapedBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    parts.push(code >= 0xdc80 && code <= 0xdcff ? Buffer.from([code - 0xdc00]) : Buffer.from(ch, 'utf8'));
  }
  return Buffer.concat(parts);
}
