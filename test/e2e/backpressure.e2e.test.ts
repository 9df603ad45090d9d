// A client that pipelines commands and never reads the replies must not grow the server's memory:
// once its unread replies pass a small bound the server stops reading, so the client's own writes
// stall (issue: 1M NOOPs used to cost a worker 256 MB). The command timeout covers a client that
// never reads at all.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processTree, procStatus } from '../helpers/process.js';
import { type RunningServer, startServer } from '../helpers/server.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ awaitGreeting: true, log: 'level = "info";' });
});
afterAll(async () => {
  await server.stop();
});

function treeRssKb(): number {
  const root = server.process.pid ?? 0;
  return processTree(root).reduce((total, pid) => total + Number.parseInt(procStatus(pid)?.get('VmRSS') ?? '0', 10), 0);
}

/**
 * Writes up to `maxBytes` of NOOPs without ever reading; returns how many bytes the kernel took
 * before a write stalled with no 'drain' for `stallMs`.
 */
async function pipelineWithoutReading(port: number, maxBytes: number, stallMs: number): Promise<{ written: number; stalled: boolean; socket: net.Socket }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause(); // never read: replies pile up on the server's side
  const block = Buffer.from('NOOP\r\n'.repeat(10_000));
  let written = 0;
  while (written < maxBytes) {
    written += block.length;
    if (socket.write(block)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), stallMs);
      socket.once('drain', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!drained) return { written, stalled: true, socket };
  }
  return { written, stalled: false, socket };
}

describe('backpressure', () => {
  it('server stops reading a client that does not read its replies, and its memory stays bounded', async () => {
    const before = treeRssKb();
    // 120 MB of NOOPs would be 20M replies; kernel buffers on loopback hold a few MB at most.
    const { written, stalled, socket } = await pipelineWithoutReading(server.port, 120 * 1024 * 1024, 3000);
    const grownMb = (treeRssKb() - before) / 1024;
    socket.destroy();
    expect(stalled, `the client wrote ${written} bytes without the server stopping`).toBe(true);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(grownMb).toBeLessThan(64);
  });
});
