// Converts an 8-bit message to 7 bits for a server without 8BITMIME (RFC 6152 3): every MIME
// part whose body has 8-bit bytes and no encoding is re-encoded, text as quoted-printable and
// anything else as base64, and gets its Content-Transfer-Encoding header; multiparts are walked
// part by part; headers are left as they are. Works on the whole message in memory.

const CRLF = '\r\n';

/** Returns the message with 8-bit bodies encoded; a message without 8-bit bodies comes back unchanged. */
export function toSevenBit(message: Buffer): Buffer {
  return Buffer.from(convertEntity(message.toString('latin1')), 'latin1');
}

/** Tells whether bytes (as a latin1 string) hold any octet above 127. */
function hasEightBit(text: string): boolean {
  return /[\x80-\xff]/.test(text);
}

/** Converts one MIME entity (header section, empty line, body), as a latin1 string. */
function convertEntity(entity: string): string {
  const split = entity.indexOf(CRLF + CRLF);
  if (split < 0 || !hasEightBit(entity.slice(split))) return entity;
  const header = entity.slice(0, split + 2);
  const body = entity.slice(split + 4);
  const contentType = (headerValue(header, 'content-type') ?? 'text/plain').trim();
  const boundary = /^multipart\//i.test(contentType) ? /boundary="?([^";\r\n]+)"?/i.exec(contentType)?.[1] : undefined;
  if (boundary !== undefined) return `${header}${CRLF}${convertMultipart(body, boundary)}`;
  const encoding = (headerValue(header, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  if (encoding !== '7bit' && encoding !== '8bit' && encoding !== 'binary') return entity;
  const isText = /^text\//i.test(contentType);
  const newHeader = `${withoutHeader(header, 'content-transfer-encoding')}Content-Transfer-Encoding: ${isText ? 'quoted-printable' : 'base64'}${CRLF}`;
  return `${newHeader}${CRLF}${isText ? quotedPrintable(body) : base64Lines(body)}`;
}

function convertMultipart(body: string, boundary: string): string {
  const delimiter = `--${boundary}`;
  const pieces = body.split(new RegExp(`(?:^|\\r\\n)${escapeRegExp(delimiter)}`));
  const [preamble = '', ...parts] = pieces;
  const converted = parts.map((part) => {
    if (part.startsWith('--')) return `${CRLF}${delimiter}${part}`;
    const lineEnd = part.indexOf(CRLF);
    const head = lineEnd < 0 ? part : part.slice(0, lineEnd + 2);
    const rest = lineEnd < 0 ? '' : part.slice(lineEnd + 2);
    return `${CRLF}${delimiter}${head}${convertEntity(rest)}`;
  });
  return preamble + converted.join('');
}

/** Quoted-printable (RFC 2045 6.7) of a body whose line breaks are CRLF, kept as line breaks. */
function quotedPrintable(body: string): string {
  return body
    .split(CRLF)
    .map((line) => {
      let out = '';
      let width = 0;
      for (let i = 0; i < line.length; i++) {
        const code = line.charCodeAt(i);
        const isLast = i === line.length - 1;
        const literal = (code >= 33 && code <= 126 && code !== 61) || ((code === 32 || code === 9) && !isLast);
        const piece = literal ? (line[i] as string) : `=${code.toString(16).toUpperCase().padStart(2, '0')}`;
        // Soft line breaks keep encoded lines within 76 characters.
        if (width + piece.length > 75) {
          out += `=${CRLF}`;
          width = 0;
        }
        out += piece;
        width += piece.length;
      }
      return out;
    })
    .join(CRLF);
}

function base64Lines(body: string): string {
  const encoded = Buffer.from(body, 'latin1').toString('base64');
  return `${(encoded.match(/.{1,76}/g) ?? []).join(CRLF)}${CRLF}`;
}

/** The unfolded value of the first header field with this name (lower case), if any. */
function headerValue(header: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:([^\\r\\n]*(?:\\r\\n[ \\t][^\\r\\n]*)*)`, 'im').exec(header);
  return m?.[1]?.replace(/\r\n[ \t]/g, ' ');
}

function withoutHeader(header: string, name: string): string {
  return header.replace(new RegExp(`^${name}:[^\\r\\n]*\\r\\n(?:[ \\t][^\\r\\n]*\\r\\n)*`, 'gim'), '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
