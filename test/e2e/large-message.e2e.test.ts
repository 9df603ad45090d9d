// A 100 MB message through DATA and through BDAT chunks against the built server: it arrives
// intact (size and SHA-256 of the delivered file against the expected LF-converted body), and the
// server's memory stays bounded while it streams (peak RSS from /proc, a bound, not a timing).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { newFolder, waitForFiles } from '../helpers/maildir.js';
import { processTree, procStatus } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const BLOCKS = 100; // of about 1 MiB each
const MAX_GROWTH_KIB = 64 * 1024;
const HEADER = 'Subject: big\r\n\r\n';

/** The ~1 MiB of lines repeated in every block; every 40th line starts with a dot. */
const LINES = Array.from({ length: 13_400 }, (_, i) => `${i % 40 === 0 ? '.' : ''}line ${String(i).padStart(6, '0')} ${'abcdefghij'.repeat(6)}`);

/** One block as sent (CRLF, dot-stuffed for DATA) and as stored in Maildir (LF, unstuffed). */
function block(n: number, isDotStuffed: boolean): { wire: Buffer; stored: Buffer } {
  const lines = [`block ${n}`, ...LINES];
  const wire = lines.map((l) => (isDotStuffed && l.startsWith('.') ? '.' + l : l)).join('\r\n') + '\r\n';
  return { wire: Buffer.from(wire), stored: Buffer.from(lines.join('\n') + '\n') };
}

/** Sums a /proc status field (kB) over a process and its descendants (workers, if any). */
function memoryKib(rootPid: number, field: 'VmRSS' | 'VmHWM'): number {
  return processTree(rootPid).reduce((total, pid) => total + Number.parseInt(procStatus(pid)?.get(field) ?? '0', 10), 0);
}

/** Hashes a file from the first occurrence of `marker`; returns the hash and the bytes hashed. */
async function hashFrom(file: string, marker: string): Promise<{ sha256: string; bytes: number }> {
  const head = Buffer.alloc(64 * 1024);
  const fd = openSync(file, 'r');
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const start = head.subarray(0, n).indexOf(marker);
  expect(start).toBeGreaterThan(0);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { start })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function expectReply(c: RawClient, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const last = (await c.reply(timeoutMs)).last;
  expect(last).toMatch(pattern);
  return last;
}

describe.skipIf(!existsSync('/proc/self/status'))('100 MB messages', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    if (server) expect(await server.stop()).toBe(0);
    server = undefined;
  });

  /** Starts a server with room for the message and sends a small one first, so the idle peak is warm. */
  async function start(): Promise<{ s: RunningServer; c: RawClient; idleHwmKib: number }> {
    const s = await startServer({ awaitGreeting: true, server: 'max_message_size = 209715200;' });
    server = s;
    onTestFailed(() => console.error(`server dir ${s.dir}; last log lines:\n${s.output().slice(-4000)}`));
    const c = await RawClient.connect(s.port);
    await expectReply(c, /^220 /);
    await c.send('EHLO client.test\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<warm@example.org>\r\nDATA\r\n');
    for (const code of [250, 250, 250, 354]) expect((await c.reply()).code).toBe(code);
    await c.send('Subject: warm-up\r\n\r\nhello\r\n.\r\n');
    await expectReply(c, /^250 /);
    return { s, c, idleHwmKib: memoryKib(s.process.pid as number, 'VmHWM') };
  }

  /** Sends blocks with `write`, sampling the server's RSS between blocks; returns the expected stored hash. */
  async function stream(s: RunningServer, isDotStuffed: boolean, write: (wire: Buffer, n: number) => Promise<void>) {
    const hash = createHash('sha256').update(HEADER.replace(/\r\n/g, '\n'));
    let bytes = Buffer.byteLength(HEADER) - 2;
    let peakRssKib = 0;
    for (let n = 0; n < BLOCKS; n += 1) {
      const { wire, stored } = block(n, isDotStuffed);
      hash.update(stored);
      bytes += stored.length;
      await write(wire, n);
      peakRssKib = Math.max(peakRssKib, memoryKib(s.process.pid as number, 'VmRSS'));
    }
    return { sha256: hash.digest('hex'), bytes, peakRssKib };
  }

  async function checkDelivered(s: RunningServer, rcpt: string, expected: { sha256: string; bytes: number }) {
    const [file] = await waitForFiles(newFolder(`${s.dir}/mail`, rcpt), 1);
    expect(file).toBeDefined();
    const size = statSync(file as string).size;
    expect(path.basename(file as string)).toContain(`,S=${size}`);
    expect(await hashFrom(file as string, 'Subject: big\n')).toEqual({ sha256: expected.sha256, bytes: expected.bytes });
  }

  it('server stores a 100 MB DATA message intact with bounded memory', { timeout: 180_000 }, async () => {
    const { s, c, idleHwmKib } = await start();
    try {
      await c.send('MAIL FROM:<sender@example.net> SIZE=110000000\r\nRCPT TO:<big@example.org>\r\nDATA\r\n');
      for (const code of [250, 250, 354]) expect((await c.reply()).code).toBe(code);
      await c.send(HEADER);
      const expected = await stream(s, true, (wire) => c.send(wire));
      await c.send('.\r\n');
      await expectReply(c, /^250 2\.0\.0 OK: queued as /, 120_000);
      const growthKib = memoryKib(s.process.pid as number, 'VmHWM') - idleHwmKib;
      expect(growthKib, `peak RSS grew by ${growthKib} KiB (sampled peak ${expected.peakRssKib} KiB)`).toBeLessThan(MAX_GROWTH_KIB);
      await checkDelivered(s, 'big@example.org', expected);
    } finally {
      c.close();
    }
  });

  it('server stores a 100 MB message sent in BDAT chunks intact with bounded memory', { timeout: 180_000 }, async () => {
    const { s, c, idleHwmKib } = await start();
    try {
      await c.send('MAIL FROM:<sender@example.net>\r\nRCPT TO:<chunked@example.org>\r\n');
      for (const code of [250, 250]) expect((await c.reply()).code).toBe(code);
      await c.send(`BDAT ${Buffer.byteLength(HEADER)}\r\n${HEADER}`);
      await expectReply(c, /^250 2\.0\.0 /);
      const expected = await stream(s, false, async (wire, n) => {
        const last = n === BLOCKS - 1 ? ' LAST' : '';
        await c.send(Buffer.concat([Buffer.from(`BDAT ${wire.length}${last}\r\n`), wire]));
        await expectReply(c, last ? /^250 2\.0\.0 OK: queued as / : /^250 2\.0\.0 \d+ octets received$/, 120_000);
      });
      const growthKib = memoryKib(s.process.pid as number, 'VmHWM') - idleHwmKib;
      expect(growthKib, `peak RSS grew by ${growthKib} KiB (sampled peak ${expected.peakRssKib} KiB)`).toBeLessThan(MAX_GROWTH_KIB);
      await checkDelivered(s, 'chunked@example.org', expected);
    } finally {
      c.close();
    }
  });
});
