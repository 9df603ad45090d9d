// Binding the listening sockets as root, before the privilege drop, and holding what they accept
// until the supervisor takes over: a listening socket accepts at once, handler or not, and a
// connection that arrives during start-up must wait, not be lost. Then the SMTP workers accept on
// the same sockets, which they inherit at spawn.
import net from 'node:net';

/**
 * Binds one address without serving it yet, so that it can be bound as root and served after the
 * drop. `[::]` is IPv6-only so that `0.0.0.0` can be bound beside it.
 */
export async function bindServer(host: string, port: number, options: { pauseOnConnect?: boolean } = {}): Promise<net.Server> {
  // pauseOnConnect: a socket handed to another process must not have been read from here.
  const server = net.createServer({ noDelay: true, pauseOnConnect: options.pauseOnConnect ?? false });
  // A listening server accepts at once, handler or not: hold what arrives until someone takes over.
  const sockets: net.Socket[] = [];
  const hold = (socket: net.Socket) => sockets.push(socket);
  server.on('connection', hold);
  held.set(server, { sockets, hold });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: net.isIPv6(host), backlog: 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

const held = new WeakMap<net.Server, { sockets: net.Socket[]; hold: (socket: net.Socket) => void }>();

/** Stops holding a bound server's connections and returns those accepted so far, oldest first. */
export function takeHeldConnections(server: net.Server): net.Socket[] {
  const entry = held.get(server);
  if (!entry) return [];
  server.off('connection', entry.hold);
  held.delete(server);
  return entry.sockets;
}

/**
 * A listening socket's handle without a server on it: it accepts nothing, and keeps the socket
 * listening (connections wait in its backlog) while no worker is. This is what child_process
 * delivers for a raw handle, as cluster's workers get theirs.
 */
export interface IdleListener {
  readonly fd: number;
  close(): void;
}

/** The handle under a listening server; sent as a message's handle it arrives as an IdleListener. */
export function handleOf(server: net.Server): IdleListener {
  // Node keeps the libuv handle in `_handle` (cluster relies on it too); there is no public accessor.
  return (server as unknown as { _handle: IdleListener })._handle;
}

/** Where the listening sockets a worker inherits start: after stdin, stdout, stderr and the IPC channel. */
export const FIRST_INHERITED_FD = 4;

/** Accepts on the listening socket `index` the worker inherited; resolves once it does. */
export async function listenInherited(index: number, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd: FIRST_INHERITED_FD + index }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
