// Serves accepted sockets (handed over by the supervisor, which enforces the connection limits
// for all workers at once): learns who the client is (PTR, relay permission) and gives each
// socket a Connection.
// Also drains: let messages finish, 421 the rest. bindServer() binds addresses for the supervisor.
import net from 'node:net';
import type { Logger } from '../log/logger.js';
import { Connection, type ConnectionOptions } from './connection.js';

/** What the listener needs besides the per-connection options. */
export interface ListenerOptions extends ConnectionOptions {
  /** Finds the client's confirmed PTR name; null when none or when lookups are off. */
  readonly lookupPtr: (address: string) => Promise<string | null>;
  /** Tells whether a client address may relay (relay_networks). */
  readonly mayRelay: (address: string) => boolean;
}

/** Serves SMTP sessions on sockets accepted elsewhere. */
export class Listener {
  private readonly connections = new Set<Connection>();
  private sessionCounter = 0;

  constructor(
    private options: ListenerOptions,
    private readonly log: Logger,
  ) {}

  /** Serves a socket accepted elsewhere (handed over by the supervisor); resolves once it is closed. */
  handle(socket: net.Socket): Promise<void> {
    return this.accept(socket);
  }

  /** Uses new options (limits, timeouts, domains) for connections accepted from now on. */
  reconfigure(options: ListenerOptions): void {
    this.options = options;
  }

  /** The number of open sessions. */
  get size(): number {
    return this.connections.size;
  }

  /** Asks every session to end, and waits up to `deadlineMs` before cutting them. */
  async drain(deadlineMs: number): Promise<void> {
    for (const c of this.connections) c.shutdown();
    const all = Promise.all([...this.connections].map((c) => c.closed));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    if ((await Promise.race([all, deadline])) === 'late') {
      this.log.warn({ open: this.connections.size }, 'drain deadline passed; closing sessions');
      for (const c of this.connections) c.destroy();
      await all;
    }
    clearTimeout(timer);
  }

  private accept(socket: net.Socket): Promise<void> {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const sid = `${process.pid.toString(36)}${(++this.sessionCounter).toString(36).padStart(5, '0')}`;
    const log = this.log.child({ sid, ip: address });
    const connection = new Connection(socket, this.options, log);
    this.connections.add(connection);
    void this.greet(connection, address, log);
    return connection.closed.then(() => this.forget(connection, log));
  }

  private async greet(connection: Connection, address: string, log: Logger): Promise<void> {
    const ptr = await this.options.lookupPtr(address).catch(() => null);
    const mayRelay = this.options.mayRelay(address);
    log.info({ ptr, mayRelay }, 'connect');
    connection.start({ address, ptr, mayRelay });
  }

  private forget(connection: Connection, log: Logger): void {
    this.connections.delete(connection);
    log.info('disconnect');
  }
}

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

/** Turns `::ffff:1.2.3.4` into `1.2.3.4` so IPv4 clients count and match as IPv4. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
