// SASL as SMTP AUTH carries it (RFC 4954): base64 lines, the PLAIN message (RFC 4616) and the
// prompts of LOGIN (draft-murchison-sasl-login). Pure decoding; which mechanisms are offered and
// what a decoded login means belong to the session and the authenticator.
import { isUtf8 } from 'node:buffer';

/** The mechanisms the server offers, in EHLO order. */
export const SASL_MECHANISMS = ['PLAIN', 'LOGIN'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** The LOGIN mechanism's prompts, already base64: "Username:" and "Password:". */
export const LOGIN_USERNAME_PROMPT = Buffer.from('Username:').toString('base64');
export const LOGIN_PASSWORD_PROMPT = Buffer.from('Password:').toString('base64');

/** What a client sends to abandon an exchange (RFC 4954 4). */
export const SASL_CANCEL = '*';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Returns the mechanism named by an AUTH argument (case-insensitive), or undefined if we lack it. */
export function parseMechanism(word: string): SaslMechanism | undefined {
  const upper = word.toUpperCase();
  return SASL_MECHANISMS.find((m) => m === upper);
}

/**
 * Decodes one base64 line, strictly (padding required, no blanks), as RFC 4954 4 asks; `=` alone
 * is the empty initial response. Returns undefined for anything that is not base64.
 */
export function decodeSaslLine(line: string): Buffer | undefined {
  if (line === '=') return Buffer.alloc(0);
  if (!BASE64.test(line)) return undefined;
  return Buffer.from(line, 'base64');
}

/** The PLAIN message: authorization identity (often empty), login and password. */
export interface PlainCredentials {
  readonly authzid: string;
  readonly login: string;
  readonly password: string;
}

/** Splits a decoded PLAIN message `[authzid] NUL authcid NUL passwd` (RFC 4616 2); undefined if malformed. */
export function parsePlain(message: Buffer): PlainCredentials | undefined {
  const first = message.indexOf(0);
  const second = first < 0 ? -1 : message.indexOf(0, first + 1);
  if (second < 0 || message.indexOf(0, second + 1) >= 0) return undefined;
  const [authzid, login, password] = [message.subarray(0, first), message.subarray(first + 1, second), message.subarray(second + 1)].map(utf8);
  if (authzid === undefined || login === undefined || password === undefined || login === '' || password === '') return undefined;
  return { authzid, login, password };
}

/** Decodes a LOGIN answer (a user name or a password) as UTF-8 text; undefined if it is not UTF-8 or holds a NUL. */
export function parseLoginAnswer(message: Buffer): string | undefined {
  const text = utf8(message);
  return text === undefined || text.includes('\0') ? undefined : text;
}

function utf8(bytes: Buffer): string | undefined {
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}

