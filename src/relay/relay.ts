// The relay: delivers a queued message to the mail hosts of its recipients' domains and reports
// one outcome per recipient (it matches the queue's Deliverer by shape). Routing: a transport of
// the domain, else the smarthost, else its MX hosts (dns/mx.ts); each address is tried in order
// until one takes the transaction. Sessions are reused through the pool, one per address.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { addressesOf, mailHosts, type MailHostsResult } from '../dns/mx.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { Logger } from '../log/logger.js';
import { type Reply, reply } from '../smtp/reply.js';
import { type Session, SessionPool } from './pool.js';
import { toSevenBit } from './seven-bit.js';
import { type ClientTimeouts, RelayError, SmtpClient } from './smtp-client.js';
import {
  mailCommand,
  NO_FEATURES,
  type OutboundMessage,
  outcomeOf,
  parseEhlo,
  type RecipientOutcome,
  refusalBeforeSending,
  sameForAll,
  type ServerFeatures,
} from './transaction.js';

/** A fixed next hop: a host name (its A/AAAA records, no MX) or an address, and a port. */
export interface NextHop {
  readonly host: string;
  readonly port: number;
}

export interface RelayOptions {
  readonly resolver: DnsResolver;
  /** Our name in EHLO. */
  readonly heloName: string;
  /** Port of MX hosts (Postfix's smtp_tcp_port). @default 25 */
  readonly port: number;
  /** Sends all remote mail through one host instead of MX lookups. */
  readonly smarthost?: NextHop;
  /** Next hops by domain (lower-cased), before the smarthost and MX. */
  readonly transports: ReadonlyMap<string, NextHop>;
  /** "none": never STARTTLS; "may": when offered; "encrypt": required; "verify": required with a valid certificate. */
  readonly tls: 'none' | 'may' | 'encrypt' | 'verify';
  readonly timeouts: ClientTimeouts;
  readonly maxMessagesPerSession: number;
  /** Outbound sessions open at once (relay.max_connections, this worker's share). */
  readonly maxSessions: number;
  readonly idleMs: number;
  /** How long an address that could not be reached is skipped (every message for it deferred at once). */
  readonly deadHostMs: number;
  /** Tells whether an address and port are our own listener: mail to it would loop. */
  readonly isOwnListener: (address: string, port: number) => boolean;
  readonly logger: Logger;
}

/** A message as the relay sends it. */
export interface RelayMessage extends Partial<OutboundMessage> {
  readonly queueId: string;
  readonly reversePath: string;
  readonly dataPath: string;
}

interface Target {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/** Delivers to remote domains. */
export class Relay {
  private readonly pool: SessionPool;
  /** Addresses ("address port") that could not be reached lately: until when to skip them, and why. */
  private readonly dead = new Map<string, { untilMs: number; problem: string }>();

  constructor(private readonly options: RelayOptions) {
    this.pool = new SessionPool({ idleMs: options.idleMs, maxMessagesPerSession: options.maxMessagesPerSession, maxSessions: options.maxSessions });
  }

  /**
   * The destination mail for `domain` goes to: its fixed next hop when it has one (the smarthost
   * is one destination for every domain), else its own MX hosts. Mail for one destination should
   * go through one relay (one session per host).
   */
  destinationOf(domain: string): string {
    const hop = this.options.transports.get(domain) ?? this.options.smarthost;
    return hop ? `[${hop.host}]:${hop.port}` : domain;
  }

  /** Delivers one message to remote recipients; one outcome per recipient, in order. */
  async deliver(message: RelayMessage, recipients: readonly string[]): Promise<RecipientOutcome[]> {
    const byDomain = new Map<string, number[]>();
    recipients.forEach((r, i) => {
      const domain = domainOf(r);
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), i]);
    });
    const outcomes: RecipientOutcome[] = [];
    await Promise.all(
      [...byDomain].map(async ([domain, indexes]) => {
        const results = await this.deliverToDomain(message, domain, indexes.map((i) => recipients[i] ?? ''));
        indexes.forEach((at, k) => (outcomes[at] = results[k] as RecipientOutcome));
      }),
    );
    return outcomes;
  }

  /** Forgets the addresses found unreachable: the next message for each tries it again. */
  forgetFailures(): void {
    this.dead.clear();
  }

  /** Closes the idle sessions. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private async deliverToDomain(message: RelayMessage, domain: string, rcpts: string[]): Promise<RecipientOutcome[]> {
    const targets = await this.targets(domain);
    if (!Array.isArray(targets)) return sameForAll(rcpts.length, targets);
    const reachable = targets.filter((t) => !this.options.isOwnListener(t.address, t.port));
    if (reachable.length === 0) {
      return sameForAll(rcpts.length, { kind: 'permanent', reply: reply(554, '5.4.6', `Mail for ${domain} loops back to myself`) });
    }
    let lastProblem = 'no address to try';
    for (const target of reachable) {
      const dead = this.dead.get(`${target.address} ${target.port}`);
      if (dead && dead.untilMs > Date.now()) {
        lastProblem = dead.problem;
        continue;
      }
      const result = await this.tryTarget(message, target, rcpts);
      if (Array.isArray(result)) return result;
      lastProblem = `${target.host}[${target.address}]:${target.port}: ${result}`;
      this.options.logger.info({ queueId: message.queueId, domain, host: target.host, address: target.address, problem: result }, 'relay host failed');
    }
    return sameForAll(rcpts.length, { kind: 'transient', reply: reply(451, '4.4.1', `Cannot deliver to any mail host of ${domain}: ${lastProblem}`) });
  }

  /** Remembers an unreachable address for deadHostMs; expired entries are dropped on the way, so the map stays small. */
  private remember(key: string, problem: string): void {
    const now = Date.now();
    for (const [k, d] of this.dead) if (d.untilMs <= now) this.dead.delete(k);
    this.dead.set(key, { untilMs: now + this.options.deadHostMs, problem });
  }

  /** Runs the transaction on a session to `target`; returns the outcomes, or why the target could not take it. */
  private async tryTarget(message: RelayMessage, target: Target, rcpts: string[]): Promise<RecipientOutcome[] | string> {
    const key = `${target.address} ${target.port}`;
    let session = await this.pool.acquire(key);
    try {
      session ??= await this.open(target).catch((err: unknown) => {
        // Postfix's dead-host rule: the next messages for this address are deferred without a connection attempt.
        if (err instanceof RelayError) this.remember(key, `${target.host}[${target.address}]:${target.port}: ${err.stage}: ${err.reason}`);
        throw err;
      });
      this.dead.delete(key);
      const started = Date.now();
      const outcomes = (await this.transact(session, message, rcpts)).map((o) => (o.kind === 'delivered' ? o : { ...o, remoteMta: target.host }));
      this.logAttempt(message, target, session.client, rcpts, outcomes, Date.now() - started);
      await this.reset(session.client);
      return outcomes;
    } catch (err) {
      session?.client.close();
      session = undefined;
      if (err instanceof RelayError) return `${err.stage}: ${err.reason}`;
      throw err;
    } finally {
      this.pool.release(key, session);
    }
  }

  /** Connects, reads the greeting, says EHLO (HELO if refused) and upgrades to TLS as configured. */
  private async open(target: Target): Promise<Session> {
    const client = await SmtpClient.connect(target.address, target.port, this.options.timeouts);
    try {
      expect(await client.greeting(), 220, 'greeting');
      let features = await this.hello(client);
      const { tls } = this.options;
      if (tls !== 'none' && features.startTls) {
        await client.send('STARTTLS');
        expect(await client.read('STARTTLS'), 220, 'STARTTLS');
        await client.startTls(target.host, tls === 'verify');
        features = await this.hello(client);
      } else if (tls === 'encrypt' || tls === 'verify') {
        throw new RelayError('STARTTLS', 'not offered, and relay.tls requires it');
      }
      return { client, features };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  private async hello(client: SmtpClient): Promise<ServerFeatures> {
    await client.send(`EHLO ${this.options.heloName}`);
    const ehlo = await client.read('EHLO');
    if (ehlo.code === 250) return parseEhlo(ehlo);
    await client.send(`HELO ${this.options.heloName}`);
    expect(await client.read('HELO'), 250, 'HELO');
    return NO_FEATURES;
  }

  /** Sends one message: MAIL, RCPTs and DATA (pipelined when offered), then the data. */
  private async transact({ client, features }: Session, message: RelayMessage, rcpts: string[]): Promise<RecipientOutcome[]> {
    const outbound: OutboundMessage = { reversePath: message.reversePath, bodyType: message.bodyType ?? '8bitmime', sizeBytes: message.sizeBytes ?? 0 };
    const refusal = refusalBeforeSending(outbound, features);
    if (refusal) return sameForAll(rcpts.length, { kind: 'permanent', reply: refusal });
    const commands = [mailCommand(outbound, features), ...rcpts.map((r) => `RCPT TO:<${r}>`), 'DATA'];
    const replies = features.pipelining ? await this.pipelined(client, commands) : await this.stepByStep(client, commands);
    const [mail, ...rest] = replies;
    const rcptReplies = rest.slice(0, rcpts.length);
    const data = rest[rcpts.length];
    if (!mail || mail.code !== 250) return sameForAll(rcpts.length, outcomeOf(mail ?? (data as Reply)));
    const outcomes = rcptReplies.map(outcomeOf);
    if (!outcomes.some((o) => o.kind === 'delivered')) return outcomes;
    if (data?.code !== 354) return outcomes.map((o) => (o.kind === 'delivered' ? outcomeOf(data ?? reply(451, '4.3.0', 'No reply to DATA')) : o));
    client.messages += 1;
    // RFC 6152 3: an 8-bit body goes to a server without 8BITMIME only once converted to 7 bits.
    const needsSevenBit = outbound.bodyType === '8bitmime' && !features.eightBitMime;
    await client.sendData(needsSevenBit ? toSevenBit(await readFile(message.dataPath)) : message.dataPath, message.sizeBytes);
    const final = await client.read('end of data', this.options.timeouts.dataEndMs);
    return outcomes.map((o) => (o.kind === 'delivered' ? outcomeOf(final) : o));
  }

  /** RFC 2920: the whole group at once, then every reply in order. */
  private async pipelined(client: SmtpClient, commands: string[]): Promise<Reply[]> {
    await client.send(...commands);
    const replies: Reply[] = [];
    for (const c of commands) replies.push(await client.read(c.split(' ')[0] ?? c, c === 'DATA' ? this.options.timeouts.dataMs : undefined));
    return replies;
  }

  /** One command at a time; stops after a refused MAIL, and sends DATA only if a recipient was accepted. */
  private async stepByStep(client: SmtpClient, commands: string[]): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const c of commands) {
      if (c === 'DATA' && !replies.slice(1).some((r) => r.code === 250 || r.code === 251)) break;
      await client.send(c);
      const r = await client.read(c.split(' ')[0] ?? c, c === 'DATA' ? this.options.timeouts.dataMs : undefined);
      replies.push(r);
      if (replies.length === 1 && r.code !== 250) break;
    }
    return replies;
  }

  /** Leaves the session clean for its next message (STYLE §8: back in the pool only after RSET's 250). */
  private async reset(client: SmtpClient): Promise<void> {
    await client.send('RSET');
    expect(await client.read('RSET'), 250, 'RSET');
  }

  /** Where mail for a domain goes: addresses in order, or the outcome when it can go nowhere. */
  private async targets(domain: string): Promise<Target[] | RecipientOutcome> {
    const hop = this.options.transports.get(domain) ?? this.options.smarthost;
    if (hop) return this.hopTargets(hop);
    return toTargets(await mailHosts(this.options.resolver, domain), domain, this.options.port);
  }

  private async hopTargets(hop: NextHop): Promise<Target[] | RecipientOutcome> {
    if (net.isIP(hop.host) !== 0) return [{ host: hop.host, address: hop.host, port: hop.port }];
    const addresses = await addressesOf(this.options.resolver, hop.host);
    if (typeof addresses !== 'string' && addresses.length > 0) return addresses.map((address) => ({ host: hop.host, address, port: hop.port }));
    return { kind: 'transient', reply: reply(451, '4.4.3', `Cannot find the address of next hop ${hop.host}`) };
  }

  private logAttempt(message: RelayMessage, target: Target, client: SmtpClient, rcpts: string[], outcomes: RecipientOutcome[], delayMs: number): void {
    rcpts.forEach((rcpt, i) => {
      const o = outcomes[i];
      const fields = { queueId: message.queueId, rcpt, host: target.host, address: target.address, port: target.port, tls: client.tlsInfo ?? false, delayMs };
      this.options.logger.info({ ...fields, outcome: o?.kind, reply: o && `${o.reply.code} ${o.reply.enhancedCode ?? ''} ${o.reply.lines.join(' ')}`.trim() }, 'relay attempt');
    });
  }
}

function toTargets(result: MailHostsResult, domain: string, port: number): Target[] | RecipientOutcome {
  switch (result.kind) {
    case 'hosts':
      return result.hosts.flatMap((h) => h.addresses.map((address) => ({ host: h.name, address, port })));
    case 'null-mx':
      return { kind: 'permanent', reply: reply(556, '5.1.10', `Domain ${domain} does not accept mail (null MX, RFC 7505)`) };
    case 'no-such-domain':
      return { kind: 'permanent', reply: reply(550, '5.1.2', `Domain ${domain} has no mail host: no MX and no address records`) };
    case 'temporary-failure':
      return { kind: 'transient', reply: reply(451, '4.4.3', `Cannot look up the mail hosts of ${domain}: ${result.reason}`) };
  }
}

/** The domain of an address, lower-cased. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Throws the server's reply as a RelayError unless it has the expected code. */
function expect(r: Reply, code: number, stage: string): void {
  if (r.code !== code) throw new RelayError(stage, `${r.code} ${r.enhancedCode ?? ''} ${r.lines.join(' ')}`.replace(/\s+/g, ' ').trim());
}
