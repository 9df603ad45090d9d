// Drives the pure Session from a client's byte stream without sockets, the way the listener does:
// command lines until DATA/BDAT, then data until CRLF.CRLF or exactly the BDAT size. Every action
// succeeds (recipients accepted, messages stored as "TESTID") unless the test overrides it.
import type { Reply } from '../../src/smtp/reply.js';
import { Session, type SessionOptions } from '../../src/server/session.js';
import type { SessionEvent, SessionOutput, DataOutcome } from '../../src/server/session-types.js';

export const TEST_OPTIONS: SessionOptions = {
  hostname: 'mx.test',
  maxMessageBytes: 10_000,
  maxRecipients: 5,
  maxErrors: 10,
  isLocalDomain: (d) => d === 'example.org',
};

export interface DriverHooks {
  checkRecipient?: (forwardPath: string) => Reply | undefined;
  dataOutcome?: (body: string) => DataOutcome;
}

/** Feeds bytes and events to a Session and records every reply it sends. */
export class PureDriver {
  readonly session: Session;
  readonly replies: Reply[] = [];
  /** How long the listener would wait before each of `replies` (the output's delayMs, on its first reply). */
  readonly delaysMs: number[] = [];
  readonly bodies: string[] = [];
  isClosed = false;
  private mode: 'command' | 'data' | 'chunk' = 'command';
  private buffer = '';
  private chunk = { left: 0, last: false, discard: false, body: '' };

  constructor(options: SessionOptions = TEST_OPTIONS, private readonly hooks: DriverHooks = {}) {
    this.session = new Session(options);
  }

  connect(address = '192.0.2.1', mayRelay = false): this {
    this.event({ type: 'connected', client: { address, ptr: null, mayRelay }, now: new Date(0) });
    return this;
  }

  /** Sends client bytes; replies accumulate in `replies`. */
  send(bytes: string): this {
    this.buffer += bytes;
    while (!this.isClosed && this.step()) {
      // each step consumes a line, a message or a chunk
    }
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

  private step(): boolean {
    if (this.mode === 'command') {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return false;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.event({ type: 'line', line });
      return true;
    }
    if (this.mode === 'data') return this.stepData();
    return this.stepChunk();
  }

  private stepData(): boolean {
    const framed = `\r\n${this.buffer}`;
    const end = framed.indexOf('\r\n.\r\n');
    if (end < 0) return false;
    const body = framed.slice(2, end + 2).replace(/^\./gm, '');
    this.buffer = framed.slice(end + 5);
    this.mode = 'command';
    this.bodies.push(body);
    this.event({ type: 'data-finished', outcome: this.hooks.dataOutcome?.(body) ?? { kind: 'stored', queueId: 'TESTID' } });
    return true;
  }

  private stepChunk(): boolean {
    const take = Math.min(this.chunk.left, this.buffer.length);
    this.chunk.body += this.buffer.slice(0, take);
    this.buffer = this.buffer.slice(take);
    this.chunk.left -= take;
    if (this.chunk.left > 0) return false;
    this.endChunk();
    return true;
  }

  private endChunk(): void {
    this.mode = 'command';
    const { last, discard, body } = this.chunk;
    if (last && !discard) {
      this.bodies.push(body);
      this.event({ type: 'data-finished', outcome: this.hooks.dataOutcome?.(body) ?? { kind: 'stored', queueId: 'TESTID' } });
    } else {
      this.event({ type: 'chunk-received', bytes: body.length });
    }
  }

  private perform(out: SessionOutput): void {
    this.replies.push(...out.replies);
    this.delaysMs.push(...out.replies.map((_, i) => (i === 0 ? out.delayMs : 0)));
    for (const a of out.actions) {
      switch (a.kind) {
        case 'check-recipient':
          this.event({ type: 'recipient-checked', refusal: this.hooks.checkRecipient?.(a.forwardPath) });
          break;
        case 'open-message':
          this.event({ type: 'message-opened', queueId: 'TESTID' });
          break;
        case 'receive-data':
          this.mode = 'data';
          break;
        case 'receive-chunk': {
          const previous = this.chunk.discard || this.chunk.last ? '' : this.chunk.body;
          this.chunk = { left: a.bytes, last: a.last, discard: a.discard, body: a.discard ? '' : previous };
          this.mode = 'chunk';
          if (a.bytes === 0) this.endChunk();
          break;
        }
        case 'close':
          this.isClosed = true;
          break;
        case 'abort-message':
          break;
      }
    }
  }
}
