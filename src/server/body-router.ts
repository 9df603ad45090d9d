// Routes a client's bytes where the session's current mode wants them: command lines, DATA (until
// CRLF.CRLF, dot-unstuffed) or a BDAT chunk (exactly its size). Pure and pull-based: the
// connection pushes socket bytes in and pulls items out one at a time, and a mode switch made
// while handling an item (354, an accepted BDAT) applies to the very next byte. The test driver
// uses it too, so framing is the same with and without sockets.
import { ChunkDecoder, DataDecoder, type DecodeProblem } from '../smtp/data-decoder.js';
import { CommandLineReader, type CommandLineItem } from '../smtp/line-reader.js';

const COMMAND_LINE_BYTES = 512; // RFC 5321 4.5.3.1.4, CRLF included
const TEXT_LINE_BYTES = 1000; // RFC 5321 4.5.3.1.6, CRLF included

/** One thing the connection must handle, in order. */
export type RoutedItem =
  | { readonly kind: 'command'; readonly item: CommandLineItem }
  /** Decoded message bytes to store. */
  | { readonly kind: 'body'; readonly buffers: readonly Buffer[] }
  /** DATA ended with CRLF.CRLF. */
  | { readonly kind: 'data-end'; readonly problem: DecodeProblem | undefined }
  /** A BDAT chunk was read whole; `problem` is set only for the last chunk of a kept message. */
  | { readonly kind: 'chunk-end'; readonly bytes: number; readonly isLast: boolean; readonly isDiscarded: boolean; readonly problem: DecodeProblem | undefined };

export interface BodyRouterOptions {
  readonly maxMessageBytes: number;
  readonly bareLinefeed: 'reject' | 'normalize';
}

type Chunk = { readonly size: number; remaining: number; readonly isLast: boolean; readonly decoder: ChunkDecoder | undefined };

/** Frames one connection's byte stream. */
export class BodyRouter {
  private reader = new CommandLineReader({ maxLineBytes: COMMAND_LINE_BYTES });
  private data: DataDecoder | undefined;
  private chunk: Chunk | undefined;
  /** The BDAT decoder of the open message: its state runs across chunks. */
  private chunks: ChunkDecoder | undefined;
  /** Input not yet routed, for a mode other than commands. */
  private pending: Buffer[] = [];
  private readonly ready: RoutedItem[] = [];

  constructor(private readonly options: BodyRouterOptions) {}

  /** Appends received bytes; call next() until it returns undefined before pushing again. */
  push(bytes: Buffer): void {
    if (this.data || this.chunk) this.pending.push(bytes);
    else this.reader.push(bytes);
  }

  /** Returns the next item, or undefined when more bytes are needed. */
  next(): RoutedItem | undefined {
    while (this.ready.length === 0) {
      if (this.data) {
        if (!this.routeData(this.data)) break;
      } else if (this.chunk) {
        if (!this.routeChunk(this.chunk)) break;
      } else {
        const item = this.reader.next();
        return item && { kind: 'command', item };
      }
    }
    return this.ready.shift();
  }

  /** Reads DATA from the next byte on (after 354). */
  receiveData(maxMessageBytes: number): void {
    this.data = new DataDecoder({ maxMessageBytes, bareLinefeed: this.options.bareLinefeed, maxLineBytes: TEXT_LINE_BYTES });
    this.takeCommandRest();
  }

  /** Reads a BDAT chunk of `bytes` octets from the next byte on; a discarded one is read and dropped. */
  receiveChunk(bytes: number, isLast: boolean, isDiscarded: boolean): void {
    let decoder: ChunkDecoder | undefined;
    if (!isDiscarded) decoder = this.chunks ??= new ChunkDecoder(this.options);
    this.chunk = { size: bytes, remaining: bytes, isLast, decoder };
    this.takeCommandRest();
  }

  /**
   * Forgets every byte received and not yet routed, and any partial line: what a client sent
   * after STARTTLS must never be read as a command once TLS is up (RFC 3207 5, CVE-2011-0411).
   * Returns how many bytes were dropped.
   */
  discardInput(): number {
    const dropped = this.reader.takeRest().length + this.pending.reduce((n, b) => n + b.length, 0);
    this.reader = new CommandLineReader({ maxLineBytes: COMMAND_LINE_BYTES });
    this.pending = [];
    return dropped;
  }

  /** Forgets the open message's BDAT state: the next message starts clean. */
  abortMessage(): void {
    this.chunks = undefined;
  }

  private takeCommandRest(): void {
    const rest = this.reader.takeRest();
    if (rest.length > 0) this.pending.unshift(rest);
  }

  /** Routes pending bytes through DATA; false when it needs more. */
  private routeData(decoder: DataDecoder): boolean {
    const bytes = this.pending.shift();
    if (bytes === undefined) return false;
    const result = decoder.push(bytes);
    if (result.body.length > 0) this.ready.push({ kind: 'body', buffers: result.body });
    if (!result.done) return true;
    this.data = undefined;
    this.ready.push({ kind: 'data-end', problem: decoder.problem });
    this.backToCommands(result.rest);
    return true;
  }

  /** Routes pending bytes into the current chunk; false when it needs more. */
  private routeChunk(chunk: Chunk): boolean {
    if (chunk.remaining > 0) {
      const bytes = this.pending.shift();
      if (bytes === undefined) return false;
      const take = Math.min(chunk.remaining, bytes.length);
      chunk.remaining -= take;
      const body = chunk.decoder?.push(bytes.subarray(0, take)) ?? [];
      if (body.length > 0) this.ready.push({ kind: 'body', buffers: body });
      if (take < bytes.length) this.pending.unshift(bytes.subarray(take));
      if (chunk.remaining > 0) return true;
    }
    this.chunk = undefined;
    let problem: DecodeProblem | undefined;
    if (chunk.isLast && chunk.decoder) {
      const end = chunk.decoder.end();
      if (end.body.length > 0) this.ready.push({ kind: 'body', buffers: end.body });
      problem = end.problem;
      this.chunks = undefined;
    }
    this.ready.push({ kind: 'chunk-end', bytes: chunk.size, isLast: chunk.isLast, isDiscarded: chunk.decoder === undefined, problem });
    this.backToCommands(undefined);
    return true;
  }

  private backToCommands(rest: Buffer | undefined): void {
    const bytes = rest && rest.length > 0 ? [rest, ...this.pending] : this.pending;
    this.pending = [];
    for (const b of bytes) this.reader.push(b);
  }
}
