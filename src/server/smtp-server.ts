// The SMTP server of one worker: serves sockets accepted elsewhere (the supervisor accepts and
// enforces the connection limits for all workers at once), learns who the client is (reverse
// DNS, relay permission), runs the TLS handshake first on an implicit TLS port (RFC 8314), and
// gives each socket a Connection. Also drains: let messages finish, 421 the rest. Binding is the
// process model's (system/listen.ts), not this file's.
import type net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Logger } from '../log/logger.js';
import { type ClientName, type ClientPolicyOptions, clientRefusal, connectRefusal, type DnsblAnswer } from './client-policy.js';
import { Connection, type ConnectionOptions } from './connection.js';
import type { ListenerInfo, ServiceMode } from './session-types.js';
import { upgradeToTls } from './tls-upgrade.js';

/** What the server needs besides the per-connection options. */
export interface SmtpServerOptions extends ConnectionOptions {
  /** Looks up the client's name (PTR, confirmed forward); `off` when reverse_dns is off. */
  readonly lookupName: (address: string) => Promise<ClientName>;
  /** Asks every configured DNS blocklist about the client. */
  readonly lookupDnsbl: (address: string) => Promise<readonly DnsblAnswer[]>;
  readonly clientPolicy: ClientPolicyOptions;
  /** Tells whether a client address may relay (relay_networks). */
  readonly mayRelay: (address: string) => boolean;
  /** The service of each listener, by the index the supervisor hands over with each socket. @default all 'smtp' */
  readonly listenerModes?: readonly ServiceMode[];
}

/** Serves SMTP sessions on sockets accepted elsewhere. */
export class SmtpServer {
  private readonly connections = new Set<Connection>();
  private sessionCounter = 0;

  constructor(
    private options: SmtpServerOptions,
    private readonly log: Logger,
  ) {}

  /** Serves a socket accepted elsewhere on listener `listener` (handed over by the supervisor); resolves once it is closed. */
  handle(socket: net.Socket, listener = 0): Promise<void> {
    return this.accept(socket, this.options.listenerModes?.[listener] ?? 'smtp');
  }

  /** Uses new options (limits, timeouts, domains) for connections accepted from now on. */
  reconfigure(options: SmtpServerOptions): void {
    this.options = options;
  }

  /** The number of open sessions. */
  get size(): number {
    return this.connections.size;
  }

  /** Asks every session to end, and waits up to `deadlineMs` before cutting them (0: cuts them now). */
  async drain(deadlineMs: number): Promise<void> {
    for (const c of this.connections) {
      if (deadlineMs > 0) c.shutdown();
      else c.destroy();
    }
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

  private async accept(socket: net.Socket, mode: ServiceMode): Promise<void> {
    const address = plainAddress(socket.remoteAddress ?? '');
    const sid = `${process.pid.toString(36)}${(++this.sessionCounter).toString(36).padStart(5, '0')}`;
    const log = this.log.child({ sid, ip: address });
    let listener: ListenerInfo = { mode, tls: null };
    if (mode === 'submissions') {
      const tlsOptions = this.options.tls;
      const upgraded = tlsOptions
        ? await upgradeToTls(socket, tlsOptions, this.options.timeouts.tlsHandshakeMs)
        : { ok: false as const, reason: 'no certificate configured' };
      if (!upgraded.ok) {
        log.info({ reason: upgraded.reason }, 'TLS handshake failed');
        socket.destroy();
        return;
      }
      log.info({ tls: upgraded.info.protocol, cipher: upgraded.info.cipher }, 'TLS started');
      socket = upgraded.socket;
      listener = { mode, tls: upgraded.info };
    }
    const connection = new Connection(socket, this.options, log);
    this.connections.add(connection);
    void this.greet(connection, address, log, listener);
    await connection.closed;
    this.forget(connection, log);
  }

  private async greet(connection: Connection, address: string, log: Logger, listener: ListenerInfo): Promise<void> {
    const failed = (err: unknown) => ({ kind: 'temporary-failure' as const, reason: String(err) });
    const [name, dnsbl] = await Promise.all([this.options.lookupName(address).catch(failed), this.options.lookupDnsbl(address).catch(() => [])]);
    const mayRelay = this.options.mayRelay(address);
    const ptr = name.kind === 'confirmed' ? name.name : null;
    const policy = this.options.clientPolicy;
    const refusal = clientRefusal(address, name, dnsbl, policy);
    const listed = dnsbl.filter((a) => a.kind === 'listed').map((a) => a.zone);
    const fields = { rdns: name.kind, ptr: 'name' in name ? name.name : null, mayRelay, service: listener.mode, ...(listed.length > 0 && { dnsbl: listed }) };
    log.info({ ...fields, ...(refusal && { refused: `${refusal.code} ${refusal.enhancedCode ?? ''}` }) }, 'connect');
    const isRefusedAtConnect = refusal !== undefined && policy.rejectAt === 'connect';
    const client = { address, ptr, mayRelay, isLoopback: isLoopback(address), refusal: isRefusedAtConnect ? connectRefusal(refusal) : refusal, isRefusedAtConnect };
    connection.start(client, listener);
  }

  private forget(connection: Connection, log: Logger): void {
    this.connections.delete(connection);
    log.info('disconnect');
  }
}

function isLoopback(address: string): boolean {
  return ipaddr.isValid(address) && ipaddr.parse(address).range() === 'loopback';
}

/** Turns `::ffff:1.2.3.4` into `1.2.3.4`, so IPv4 clients are logged and matched as IPv4. */
function plainAddress(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
}
