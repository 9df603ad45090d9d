// Builds the Received header prepended to every accepted message (RFC 5321 4.4, RFC 5322 3.6.7).
// Pure: the caller supplies the date. Folded at 78 columns so no header line nears 998 octets.

/** What goes into one Received header. */
export interface ReceivedFields {
  readonly helo: string;
  readonly ptr: string | null;
  readonly clientAddress: string;
  readonly hostname: string;
  /** WITH protocol (RFC 3848): SMTP, ESMTP, ESMTPS, ESMTPA, UTF8SMTP. */
  readonly protocol: string;
  readonly queueId: string;
  /** Named only when the message has exactly one recipient, so Bcc recipients stay hidden. */
  readonly recipient: string | undefined;
  /** The TLS session the message came over, shown as Postfix does: `(using TLSv1.3 with cipher ...)`. */
  readonly tls?: { readonly protocol: string; readonly cipher: string } | undefined;
  readonly date: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** Formats a date as RFC 5322 date-time in UTC, e.g. `Sun, 22 Nov 2026 03:15:00 +0000`. */
export function formatRfc5322Date(d: Date): string {
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} +0000`;
}

/** Replaces characters that could break the header out of its field (CR, LF, other controls). */
function clean(text: string): string {
  let out = '';
  for (const ch of text) out += ch < ' ' || ch === '\x7f' || ch === '(' || ch === ')' ? '?' : ch;
  return out;
}

/** Builds the header as CRLF-terminated text. */
export function buildReceivedHeader(f: ReceivedFields): string {
  const literal = f.clientAddress.includes(':') ? `IPv6:${f.clientAddress}` : f.clientAddress;
  const fromPart = `from ${clean(f.helo)} (${f.ptr ? clean(f.ptr) : 'unknown'} [${literal}])`;
  const parts = [fromPart];
  if (f.tls) parts.push(`(using ${clean(f.tls.protocol)} with cipher ${clean(f.tls.cipher)})`);
  parts.push(`by ${f.hostname} (mta)`, `with ${f.protocol} id ${f.queueId}`);
  if (f.recipient !== undefined) parts.push(`for <${clean(f.recipient)}>`);
  return fold(parts, f.date);
}

/** What goes into the Received header of a message submitted with sendmail. */
export interface LocalReceivedFields {
  /** The submitting user, as the kernel reports the owner of the maildrop file. */
  readonly uid: number;
  readonly hostname: string;
  readonly queueId: string;
  readonly recipient: string | undefined;
  readonly date: Date;
}

/** Builds the Received header of a local submission: `from local user (uid N) by HOST (mta) id ID`. */
export function buildLocalReceivedHeader(f: LocalReceivedFields): string {
  const parts = [`from local user (uid ${f.uid})`, `by ${f.hostname} (mta)`, `id ${f.queueId}`];
  if (f.recipient !== undefined) parts.push(`for <${clean(f.recipient)}>`);
  return fold(parts, f.date);
}

/** Joins the clauses into a header folded before 78 columns, ending with the date. */
function fold(parts: readonly string[], date: Date): string {
  const lines: string[] = [];
  let current = 'Received:';
  for (const part of parts) {
    if (current.length + 1 + part.length > 78 && current !== 'Received:') {
      lines.push(current);
      current = '\t' + part;
    } else {
      current += ' ' + part;
    }
  }
  lines.push(current + ';');
  lines.push('\t' + formatRfc5322Date(date));
  return lines.join('\r\n') + '\r\n';
}
