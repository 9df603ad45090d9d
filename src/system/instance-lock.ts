// One daemon per queue, as Postfix's master.lock: the supervisor holds a lock named after the
// queue root while it lives. Node has no flock(2), so the lock is a Linux abstract Unix socket:
// binding its name is atomic, only one process can hold it, and the kernel frees it when the
// holder dies however it dies, leaving no stale file. A second daemon connects and learns the pid.
import { createHash } from 'node:crypto';
import net from 'node:net';

/** The lock is ours, or another process (pid when it answered) holds it. */
export type LockResult = { readonly kind: 'held'; release(): void } | { readonly kind: 'busy'; readonly pid: number | undefined };

/** How long a second daemon waits for the holder to say its pid. */
const ASK_TIMEOUT_MS = 1000;

function lockName(key: string): string {
  return `\0mta-lock-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/** Takes the lock for `key` (e.g. the queue root's real path) for the life of this process. */
export async function acquireInstanceLock(key: string): Promise<LockResult> {
  const server = net.createServer((socket) => socket.end(`${process.pid}\n`));
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    server.listen({ path: lockName(key) }, () => resolve(true));
  });
  if (!bound) return { kind: 'busy', pid: await askHolder(key) };
  // The lock must never keep the process alive on its own.
  server.unref();
  return { kind: 'held', release: () => server.close() };
}

function askHolder(key: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect({ path: lockName(key) });
    const timer = setTimeout(() => socket.destroy(), ASK_TIMEOUT_MS);
    socket.on('data', (b: Buffer) => (text += b.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const pid = Number.parseInt(text, 10);
      resolve(Number.isSafeInteger(pid) && pid > 0 ? pid : undefined);
    });
  });
}
