// The supervisor's view of every open SMTP connection across the workers, for max_connections and
// max_connections_per_ip: a connection is counted from accept until its worker reports it closed
// (or dies). IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
import ipaddr from 'ipaddr.js';

/** One admitted connection. */
interface Entry {
  readonly ip: string;
  owner: unknown;
}

export interface GateLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

export class ConnectionGate {
  private readonly open = new Map<number, Entry>();
  private readonly perIp = new Map<string, number>();
  private nextId = 0;

  constructor(private limits: GateLimits) {}

  setLimits(limits: GateLimits): void {
    this.limits = limits;
  }

  get size(): number {
    return this.open.size;
  }

  /** Admits a connection from `address`: its id, or undefined when a limit is reached. */
  admit(address: string): number | undefined {
    const ip = ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.open.size >= this.limits.maxConnections || fromIp >= this.limits.maxConnectionsPerIp) return undefined;
    const id = ++this.nextId;
    this.open.set(id, { ip, owner: undefined });
    this.perIp.set(ip, fromIp + 1);
    return id;
  }

  /** Records which worker serves the connection, so that its death releases it. */
  assign(id: number, owner: unknown): void {
    const entry = this.open.get(id);
    if (entry) entry.owner = owner;
  }

  release(id: number): void {
    const entry = this.open.get(id);
    if (!entry) return;
    this.open.delete(id);
    const left = (this.perIp.get(entry.ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(entry.ip, left);
    else this.perIp.delete(entry.ip);
  }

  /** Releases every connection a dead worker was serving. */
  releaseOwner(owner: unknown): void {
    for (const [id, entry] of this.open) if (entry.owner === owner) this.release(id);
  }
}
