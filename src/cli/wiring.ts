// Config -> every module's options: the one place that knows both the Config and the concrete
// classes (STYLE §2). Each builder maps settings onto a module's own options and wires the
// modules together; no I/O happens until the built objects are used.
import ipaddr from 'ipaddr.js';
import { parseNextHop } from '../config/addresses.js';
import type { Config, NextHop } from '../config/types.js';
import type { Logger as PinoLogger } from '../log/logger.js';
import { Relay } from '../relay/relay.js';
import { networkInterfaces } from 'node:os';
import { UserAuthenticator } from '../auth/user-authenticator.js';
import { errnoCode } from '../fsio/errno.js';
import { lookupDnsbl } from '../dns/dnsbl.js';
import { DnsResolver } from '../dns/resolver.js';
import { Maildir } from '../maildir/maildir.js';
import type { Deliverer, LocalDeliverer } from '../queue/deliverer.js';
import type { AliasEntry } from '../queue/aliases.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Intake } from '../queue/intake.js';
import { Maildrop } from '../queue/maildrop.js';
import { MAILDROP_FOLDER } from '../queue/maildrop-file.js';
import { recoverQueue, type RecoveryReport } from '../queue/recovery.js';
import { Router } from '../queue/router.js';
import { QueueRunner } from '../queue/runner.js';
import type { RetryOptions } from '../queue/scheduler.js';
import type { QueueLogger as Logger } from '../queue/states.js';
import { QueueStore } from '../queue/store.js';
import type { Authenticator } from '../server/authenticator.js';
import type { MessageSink } from '../server/message-sink.js';
import type { ClientName } from '../server/client-policy.js';
import { buildLocalReceivedHeader, formatRfc5322Date } from '../server/received-header.js';
import type { SmtpServerOptions } from '../server/smtp-server.js';
import { formatReply, replies } from '../smtp/reply.js';
import { userNameOf } from '../system/privileges.js';
import type { SupervisorSettings } from '../system/supervisor.js';
import { type ServerKeys, serverTlsOptions } from '../tls/server.js';

/**
 * What the daemon runs on: the config and the aliases file it names, both read by the supervisor
 * (at start and on SIGHUP) and sent to every worker, so that all of them use the same table and a
 * restarted worker never reads a file that has turned bad since.
 */
export interface Running {
  readonly config: Config;
  readonly aliases: readonly AliasEntry[];
  /** The certificates and keys, read as root before the drop (cli/serving-config.ts); null when none are configured. */
  readonly tlsKeys: ServerKeys | null;
}

/** What the modules need besides the config: the parsed aliases file, and test-only knobs. */
export interface WiringOptions {
  /** The aliases file, parsed by the supervisor (cli/newaliases.ts) and handed on as a value. @default [] */
  readonly aliases?: readonly AliasEntry[];
  /** Lets delivery run as root. @default false */
  readonly allowRoot?: boolean;
  /** @default Date.now */
  readonly nowMs?: () => number;
  /** @default 5000 */
  readonly pollIntervalMs?: number;
  /** Hears of each message a runner queues (bounces), for the supervisor to wake its owner. */
  readonly onQueued?: (queueId: string) => void;
}

/** Returns the queue's retry policy. */
export function retryOptions(config: Config): RetryOptions {
  return {
    retryMinIntervalMs: config.relay.retryMinIntervalMs,
    retryMaxIntervalMs: config.relay.retryMaxIntervalMs,
    maxQueueLifetimeMs: config.relay.maxQueueLifetimeMs,
  };
}

/** Returns the router built from the local domains and the aliases. */
export function buildRouter(config: Config, aliases: readonly AliasEntry[] = []): Router {
  return new Router({ localDomains: config.domains, aliases, recipientDelimiter: config.maildir.recipientDelimiter });
}

/** The mailboxes created on demand whatever create_mailboxes says: the first local domain's postmaster. */
function postmasterMailboxes(config: Config): string[] {
  return config.domains.slice(0, 1).map((domain) => `postmaster@${domain}`);
}

function buildMaildir(config: Config, logger: Logger, options: WiringOptions): LocalDeliverer {
  return new Maildir({
    root: config.maildir.root,
    recipientDelimiter: config.maildir.recipientDelimiter,
    createMailboxes: config.maildir.createMailboxes,
    createOnDemand: postmasterMailboxes(config),
    allowRoot: options.allowRoot,
    logger,
  });
}

/** Builds the intake the SMTP server stores mail through; `onQueued` hears of each queued message. */
export function buildIntake(
  config: Config,
  logger: Logger,
  onQueued?: (queueId: string) => void,
  options: WiringOptions = {},
  router = buildRouter(config, options.aliases),
): Intake {
  return new Intake({
    store: new QueueStore(config.queue.root, logger),
    router,
    local: buildMaildir(config, logger, options),
    retry: retryOptions(config),
    logger,
    nowMs: options.nowMs,
    onQueued,
  });
}

/** Builds the relay (remote delivery) of a relay worker: its share of relay.max_connections. */
export function buildRelay(config: Config, logger: PinoLogger): Relay {
  const r = config.relay;
  const hop = (text: string): NextHop => {
    const parsed = parseNextHop(text);
    if (!parsed.ok) throw new RangeError(`Invalid next hop "${text}": ${parsed.reason}`);
    return parsed.value;
  };
  return new Relay({
    resolver: buildResolver(config),
    heloName: config.hostname,
    port: r.port,
    smarthost: r.smarthost === null ? undefined : hop(r.smarthost),
    transports: new Map(r.transports.map((t) => [t.domain, t.nextHop])),
    tls: r.tls,
    timeouts: {
      connectMs: r.connectTimeoutMs,
      greetingMs: r.commandTimeoutMs,
      commandMs: r.commandTimeoutMs,
      // RFC 5321 4.5.3.2: DATA initiation 2 minutes and each data block 3 minutes, within the command wait.
      dataMs: Math.min(r.commandTimeoutMs, 120_000),
      dataBlockMs: Math.min(r.commandTimeoutMs, 180_000),
      dataEndMs: r.dataEndTimeoutMs,
    },
    maxMessagesPerSession: r.maxMessagesPerSession,
    maxSessions: Math.max(1, Math.floor(r.maxConnections / r.workers)),
    idleMs: RELAY_IDLE_MS,
    deadHostMs: r.retryMinIntervalMs,
    isOwnListener: ownListenerTest(config),
    logger,
  });
}

/** How long an outbound session waits for another message before QUIT (Postfix's smtp_connection_cache_time_limit). */
const RELAY_IDLE_MS = 2000;

/** Tells whether an address and port are one of our listen addresses (a wildcard one matches every local address). */
function ownListenerTest(config: Config): (address: string, port: number) => boolean {
  const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
  return (address, port) =>
    config.server.listen.some((l) => l.port === port && (l.host === address || ((l.host === '0.0.0.0' || l.host === '::') && (local.has(address) || address.startsWith('127.')))));
}

/**
 * Builds the queue runner (relay worker 0). `remote` delivers to other domains, and
 * `destinationOf` names the destination of a domain, so that the runner keeps only a few
 * messages under way for each. The aliases expand the address a bounce goes to.
 */
export function buildRunner(config: Config, logger: Logger, options: WiringOptions = {}, remote?: Deliverer, destinationOf?: (domain: string) => string): QueueRunner {
  return new QueueRunner({
    store: new QueueStore(config.queue.root, logger),
    router: buildRouter(config, options.aliases),
    local: buildMaildir(config, logger, options),
    remote,
    destinationOf,
    hostname: config.hostname,
    onQueued: options.onQueued,
    maxInFlight: config.relay.maxConnections,
    retry: retryOptions(config),
    logger,
    pollIntervalMs: options.pollIntervalMs,
    nowMs: options.nowMs,
  });
}

/** Returns the maildrop folder that sendmail writes into. */
export function maildropDir(config: Config): string {
  return path.join(config.queue.root, MAILDROP_FOLDER);
}

/**
 * Builds the pickup of sendmail's maildrop: it queues through its own intake, and `onQueued`
 * hears of each queued message. Root and the user the daemon runs as may set the sender with -f.
 */
export function buildMaildrop(config: Config, logger: Logger, onQueued?: (queueId: string) => void, options: WiringOptions & { scanIntervalMs?: number; abandonedAfterMs?: number } = {}): Maildrop {
  const hostname = config.hostname;
  return new Maildrop({
    dir: maildropDir(config),
    corruptDir: new QueueStore(config.queue.root).folder('corrupt'),
    intake: buildIntake(config, logger, onQueued, options),
    hostname,
    maxMessageBytes: config.server.maxMessageBytes,
    trustedUids: [0, process.getuid?.() ?? 0],
    userName: userNameOf,
    receivedHeader: (stamp) => buildLocalReceivedHeader({ ...stamp, hostname }),
    formatDate: formatRfc5322Date,
    newMessageId: () => `<${Date.now().toString(36)}.${randomBytes(6).toString('hex')}@${hostname}>`,
    logger,
    scanIntervalMs: options.scanIntervalMs,
    abandonedAfterMs: options.abandonedAfterMs,
  });
}

/** Creates missing queue folders, clears tmp/ and moves corrupt entries aside; once, before serving. */
export function recover(config: Config, logger: Logger): Promise<RecoveryReport> {
  return recoverQueue(new QueueStore(config.queue.root, logger), logger);
}

/** Removes what a dead SMTP worker was receiving (it answered no 250 for it); logs, never throws. */
export async function discardSpoolsOf(config: Config, pid: number, logger: Logger): Promise<void> {
  try {
    const removed = await new QueueStore(config.queue.root).discardSpoolsOf(pid);
    if (removed > 0) logger.info({ removed }, 'half-received messages of a dead worker removed');
  } catch (err) {
    logger.warn({ err: errnoCode(err) }, 'cannot remove half-received messages of a dead worker');
  }
}

/** Builds the DNS resolver of a process (its cache is per resolver: build one and share it). */
export function buildResolver(config: Config): DnsResolver {
  return new DnsResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs });
}

/** Builds the AUTH checker over the user database (opened lazily, in the worker that uses it). */
export function buildAuthenticator(config: Config, options: WiringOptions = {}): Authenticator {
  // auth/ matches server/'s Authenticator by shape; this assignment is the check.
  const authenticator: Authenticator = new UserAuthenticator({
    database: config.auth.database,
    maxFailures: config.auth.maxFailures,
    lockoutMs: config.auth.lockoutMs,
    nowMs: options.nowMs,
  });
  return authenticator;
}

/** What the SMTP server is built around besides the config: its collaborators, built once per worker. */
export interface ServerParts {
  readonly sink: MessageSink;
  readonly router: Router;
  readonly authenticator?: Authenticator;
  /** Asks the supervisor about max_message_rate; without it, or with the limit off, MAIL is not counted. */
  readonly countMessage?: (address: string) => Promise<boolean>;
}

/** Builds the SMTP server's options from what the daemon runs on (config, TLS keys) and its parts. */
export function smtpServerOptions({ config, tlsKeys }: Running, { sink, router, authenticator, countMessage }: ServerParts): SmtpServerOptions {
  const s = config.server;
  const tls = tlsKeys ? serverTlsOptions(tlsKeys) : undefined;
  const resolver = buildResolver(config);
  return {
    session: {
      hostname: config.hostname,
      maxMessageBytes: s.maxMessageBytes,
      maxRecipients: s.maxRecipients,
      maxErrors: s.maxErrors,
      softErrorLimit: s.softErrorLimit,
      maxJunkCommands: s.maxJunkCommands,
      vrfy: s.vrfy,
      isLocal: (forwardPath) => router.isLocal(forwardPath),
      countsMessages: countMessage !== undefined && s.maxMessageRate > 0,
      isTlsAvailable: tls !== undefined,
      isAuthAvailable: authenticator !== undefined,
      allowPlaintextAuthOnLoopback: config.auth.allowPlaintextLoopback,
    },
    sink,
    tls,
    authenticator,
    listenerModes: s.listen.map((a) => a.mode),
    timeouts: s.timeouts,
    bareLinefeed: s.bareLinefeed,
    now: () => new Date(),
    minDataRate: s.minDataRate,
    greetingDelayMs: s.greetingDelayMs,
    countMessage,
    lookupName: async (address): Promise<ClientName> => (s.reverseDns === 'off' ? { kind: 'off' } : resolver.confirmedName(address)),
    lookupDnsbl: (address) => lookupDnsbl(resolver, address, s.dnsbl),
    clientPolicy: { reverseDns: s.reverseDns, rejectAt: s.rejectClientAt },
    mayRelay: networkMatcher(s.relayNetworks),
  };
}

/** Returns what the supervisor needs of the config. */
export function supervisorSettings(config: Config): SupervisorSettings {
  return {
    smtpWorkers: config.server.workers,
    relayWorkers: config.relay.workers,
    maxConnections: config.server.maxConnections,
    maxConnectionsPerIp: config.server.maxConnectionsPerIp,
    maxConnectionRate: config.server.maxConnectionRate,
    maxMessageRate: config.server.maxMessageRate,
    // Postfix's smtpd_client_event_limit_exceptions is $mynetworks by default: our own hosts are never throttled.
    isRateExempt: networkMatcher(config.server.relayNetworks),
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    tooManyConnections: Buffer.from(formatReply(replies.tooManyConnections(config.hostname))),
    connectionRateExceeded: Buffer.from(formatReply(replies.connectionRateExceeded(config.hostname))),
    shuttingDown: Buffer.from(formatReply(replies.shuttingDown(config.hostname))),
  };
}

/** Returns a test of client addresses against CIDR networks; `::ffff:a.b.c.d` matches IPv4 ones. */
export function networkMatcher(cidrs: readonly string[]): (address: string) => boolean {
  const networks = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  return (address) => {
    if (!ipaddr.isValid(address)) return false;
    const ip = ipaddr.process(address);
    return networks.some(([network, bits]) => ip.kind() === network.kind() && ip.match(network, bits));
  };
}
