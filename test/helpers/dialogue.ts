// Dialogue files (test/e2e/dialogues/*.dlg): what a client sends and the reply prefixes it expects.
// `C: text` is a command or data line (CRLF added), `C~ text` a raw BDAT line (CRLF added, counted
// in the BDAT size), `S: 250 2.1.0` an expected reply: code and, if given, enhanced code. Consecutive
// C lines are sent together (pipelined); the S lines after them are the replies, in order. C lines
// are sent as UTF-8, except that `\xHH` stands for the one byte HH (a NUL, a Latin-1 é: `\xE9`).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** One round: bytes the client sends at once, then the replies it expects. */
export interface DialogueRound {
  readonly send: Buffer;
  readonly expect: readonly string[];
}

export interface Dialogue {
  readonly name: string;
  readonly greeting: string;
  readonly rounds: readonly DialogueRound[];
}

export const DIALOGUE_DIR = path.resolve(__dirname, '../e2e/dialogues');

/** Parses a dialogue file; the first S line is the greeting. */
export function parseDialogue(name: string, text: string): Dialogue {
  const rounds: { send: Buffer; expect: string[] }[] = [];
  let greeting: string | undefined;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#') || raw.trim() === '') continue;
    const tag = raw.slice(0, 2);
    const body = raw.length > 2 ? raw.slice(3) : '';
    if (tag === 'S:') {
      if (greeting === undefined) greeting = body;
      else (rounds.at(-1) ?? fail(name, raw)).expect.push(body);
    } else if (tag === 'C:' || tag === 'C~') {
      const last = rounds.at(-1);
      const bytes = lineBytes(`${body}\r\n`);
      if (last && last.expect.length === 0) last.send = Buffer.concat([last.send, bytes]);
      else rounds.push({ send: bytes, expect: [] });
    } else {
      fail(name, raw);
    }
  }
  return { name, greeting: greeting ?? fail(name, 'no greeting'), rounds };
}

/** Encodes a C line's text as UTF-8, with each `\xHH` as the byte HH. */
function lineBytes(text: string): Buffer {
  // split() with a capture group alternates text and the captured hex digits.
  const parts = text.split(/\\x([0-9A-Fa-f]{2})/);
  return Buffer.concat(parts.map((part, i) => (i % 2 === 1 ? Buffer.from([parseInt(part, 16)]) : Buffer.from(part, 'utf8'))));
}

function fail(name: string, line: string): never {
  throw new Error(`${name}: cannot parse dialogue line "${line}"`);
}

/** Loads every dialogue in the folder. */
export function loadDialogues(): Dialogue[] {
  return readdirSync(DIALOGUE_DIR)
    .filter((f) => f.endsWith('.dlg'))
    .sort()
    .map((f) => parseDialogue(f, readFileSync(path.join(DIALOGUE_DIR, f), 'utf8')));
}

/** Tells whether a reply (its last line, e.g. `250 2.1.0 OK`) matches an expected prefix. */
export function replyMatches(lastLine: string, expected: string): boolean {
  return lastLine === expected || lastLine.startsWith(`${expected} `);
}
