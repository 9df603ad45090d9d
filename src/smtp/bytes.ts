// Byte values and small buffers the DATA decoders and encoders share.

export const CR = 0x0d;
export const LF = 0x0a;
export const DOT = 0x2e;
export const EMPTY: Buffer = Buffer.alloc(0);
export const CRLF_BYTES = Buffer.from('\r\n');
export const LF_BYTES = Buffer.from('\n');
