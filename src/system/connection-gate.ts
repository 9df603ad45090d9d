// The supervisor's view of every open SMTP connection across the workers, for max_connections and
// max_connections_per_ip: a connection is counted from accept until its worker reports it closed
// (or dies). It also counts new connections per address per minute (max_connection_rate) and,
// for the workers, messages (max_message_rate). IPv4-mapped IPv6 addresses count as the IPv4
// address they carry.
import ipaddr from 'ipaddr.js';
import { RateWindow, type RateWindowOptions } from './rate-window.js';

/** One admitted connection. */
interface Entry {
  readonly ip: string;
  owner: unknown;
}

export interface GateLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** New connections per address per minute; 0 means no limit. @default 0 */
  readonly maxConnectionRate?: number;
  /** Messages per address per minute, counted for the workers; 0 means no limit. @default 0 */
  readonly maxMessageRate?: number;
  /** Addresses the rates never apply to (Postfix exempts $mynetworks likewise). @default none */
  readonly isRateExempt?: (address: string) => boolean;
}

/** Turns `::ffff:1.2.3.4` into `1.2.3.4`, so that one client has one key. */
function keyOf(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
}

export class ConnectionGate {
  private readonly open = new Map<number, Entry>();
  private readonly perIp = new Map<string, number>();
  private nextId = 0;
  private readonly connectionRate: RateWindow;
  private readonly messageRate: RateWindow;

  constructor(
    private limits: GateLimits,
    clock: RateWindowOptions = {},
  ) {
    this.connectionRate = new RateWindow(clock);
    this.messageRate = new RateWindow(clock);
  }

  setLimits(limits: GateLimits): void {
    this.limits = limits;
  }

  get size(): number {
    return this.open.size;
  }

  /** Counts a new connection from `address`; tells whether it is within max_connection_rate. */
  isWithinConnectionRate(address: string): boolean {
    return this.isWithinRate(this.connectionRate, address, this.limits.maxConnectionRate ?? 0);
  }

  /** Counts a message (a MAIL command) from `address`; tells whether it is within max_message_rate. */
  isWithinMessageRate(address: string): boolean {
    return this.isWithinRate(this.messageRate, address, this.limits.maxMessageRate ?? 0);
  }

  private isWithinRate(rate: RateWindow, address: string, limit: number): boolean {
    const ip = keyOf(address);
    if (limit === 0 || this.limits.isRateExempt?.(ip) === true) return true;
    return rate.hit(ip, limit);
  }

  /** Admits a connection from `address`: its id, or undefined when a limit is reached. */
  admit(address: string): number | undefined {
    const ip = keyOf(address);
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
