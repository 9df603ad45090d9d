// Reads SMTP replies on the client side (RFC 5321 4.2): lines of `CODE-text` ending with one
// `CODE text`, the enhanced status code (RFC 2034) split off when present. Pure and incremental:
// bytes in, complete replies out. A line that is not a reply, or a reply too long, is an error
// value, not an exception, so the relay can defer the destination with a clear reason.
import type { Reply } from './reply.js';

/** A server's reply as read, or why the server's bytes are not one. */
export type ReadReply = { readonly kind: 'reply'; readonly reply: Reply } | { readonly kind: 'malformed'; readonly line: string };

/** Longest reply accepted, all lines together: a server sending more is broken or hostile. */
const MAX_REPLY_BYTES = 64 * 1024;
const LINE = /^([2-5][0-9][0-9])([- ]|$)(.*)$/;
const ENHANCED = /^([245]\.[0-9]{1,3}\.[0-9]{1,3}) (.*)$/;

/** Splits a server's byte stream into replies. */
export class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private code = '';

  /** Appends bytes and returns every reply they complete. */
  push(bytes: Buffer): ReadReply[] {
    this.buffer += bytes.toString('latin1');
    const out: ReadReply[] = [];
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const read = this.line(line);
      if (read) out.push(read);
    }
    if (this.buffer.length > MAX_REPLY_BYTES) {
      out.push({ kind: 'malformed', line: `${this.buffer.slice(0, 80)}... (over ${MAX_REPLY_BYTES} bytes without an end of line)` });
      this.buffer = '';
    }
    return out;
  }

  private line(line: string): ReadReply | undefined {
    const m = LINE.exec(line);
    if (!m || (this.code !== '' && m[1] !== this.code)) {
      this.lines = [];
      this.code = '';
      return { kind: 'malformed', line: line.slice(0, 200) };
    }
    this.code = m[1] ?? '';
    this.lines.push(m[3] ?? '');
    if (m[2] === '-') return undefined;
    const code = Number(this.code);
    const texts = this.lines;
    this.lines = [];
    this.code = '';
    const enhanced = ENHANCED.exec(texts[0] ?? '');
    // The enhanced code must agree with the reply's class (RFC 3463 2) to be taken as one.
    if (enhanced && enhanced[1]?.[0] === String(code)[0]) {
      const prefix = `${enhanced[1]} `;
      const lines = texts.map((t) => (t.startsWith(prefix) ? t.slice(prefix.length) : t));
      return { kind: 'reply', reply: { code, enhancedCode: enhanced[1], lines } };
    }
    return { kind: 'reply', reply: { code, lines: texts } };
  }
}
