// Config -> every module's options: the one place that knows both the Config and the concrete
// classes (STYLE §2). Each builder maps settings onto a module's own options and wires the
// modules together; no I/O happens until the built objects are used.
import ipaddr from 'ipaddr.js';
import type { Config } from '../config/types.js';
import { errnoCode } from '../fsio/errno.js';
import { DnsResolver } from '../dns/resolver.js';
import { Maildir } from '../maildir/maildir.js';
import type { LocalDeliverer } from '../queue/deliverer.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Intake } from '../queue/intake.js';
import { Maildrop } from '../queue/maildrop.js';
import { MAILDROP_FOLDER } from '../queue/maildrop-file.js';
import { partitionOf } from '../queue/queue-id.js';
import { recoverQueue, type RecoveryReport } from '../queue/recovery.js';
import { Router } from '../queue/router.js';
import { QueueRunner } from '../queue/runner.js';
import type { RetryOptions } from '../queue/scheduler.js';
import type { QueueLogger as Logger } from '../queue/states.js';
import { QueueStore } from '../queue/store.js';
import type { MessageSink } from '../server/message-sink.js';
import { buildLocalReceivedHeader, formatRfc5322Date } from '../server/received-header.js';
import type { ClientName, SmtpServerOptions } from '../server/smtp-server.js';
import { formatReply, replies } from '../smtp/reply.js';
import { userNameOf } from '../system/privileges.js';
import type { SupervisorSettings } from '../system/supervisor.js';

/** Test-only knobs; the daemon uses the defaults. */
export interface WiringOptions {
  /** Lets delivery run as root. @default false */
  readonly allowRoot?: boolean;
  /** @default Date.now */
  readonly nowMs?: () => number;
  /** @default 5000 */
  readonly pollIntervalMs?: number;
}

/** Returns the queue's retry policy. */
export function retryOptions(config: Config): RetryOptions {
  return {
    retryMinIntervalMs: config.relay.retryMinIntervalMs,
    retryMaxIntervalMs: config.relay.retryMaxIntervalMs,
    maxQueueLifetimeMs: config.relay.maxQueueLifetimeMs,
  };
}

/** Returns the router built from the local domains. */
export function buildRouter(config: Config): Router {
  return new Router({ localDomains: config.domains });
}

function buildMaildir(config: Config, logger: Logger, options: WiringOptions): LocalDeliverer {
  return new Maildir({
    root: config.maildir.root,
    recipientDelimiter: config.maildir.recipientDelimiter,
    createMailboxes: config.maildir.createMailboxes,
    allowRoot: options.allowRoot,
    logger,
  });
}

/** Builds the intake the SMTP server stores mail through; `onQueued` hears of each queued message. */
export function buildIntake(config: Config, logger: Logger, onQueued?: (queueId: string) => void, options: WiringOptions = {}): Intake {
  return new Intake({
    store: new QueueStore(config.queue.root, logger),
    router: buildRouter(config),
    local: buildMaildir(config, logger, options),
    retry: retryOptions(config),
    logger,
    nowMs: options.nowMs,
    onQueued,
  });
}

/** Builds the runner of relay worker `index` of `count`: it owns the messages whose id hashes to it. */
export function buildRunner(config: Config, logger: Logger, index = 0, count = 1, options: WiringOptions = {}): QueueRunner {
  return new QueueRunner({
    store: new QueueStore(config.queue.root, logger),
    router: buildRouter(config),
    local: buildMaildir(config, logger, options),
    owns: count > 1 ? (queueId) => partitionOf(queueId, count) === index : undefined,
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

/** Builds the SMTP server's options from the config and the sink that stores mail. */
export function smtpServerOptions(config: Config, sink: MessageSink): SmtpServerOptions {
  const s = config.server;
  const resolver = s.reverseDns === 'off' ? undefined : new DnsResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs });
  const router = buildRouter(config);
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
    },
    sink,
    timeouts: s.timeouts,
    bareLinefeed: s.bareLinefeed,
    now: () => new Date(),
    lookupName: async (address): Promise<ClientName> => (resolver ? resolver.ptr(address) : { kind: 'off' }),
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
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    tooManyConnections: Buffer.from(formatReply(replies.tooManyConnections(config.hostname))),
    shuttingDown: Buffer.from(formatReply(replies.shuttingDown(config.hostname))),
  };
}

/** Returns a test of client addresses against CIDR networks; `::ffff:a.b.c.d` matches IPv4 ones. */
function networkMatcher(cidrs: readonly string[]): (address: string) => boolean {
  const networks = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  return (address) => {
    if (!ipaddr.isValid(address)) return false;
    const ip = ipaddr.process(address);
    return networks.some(([network, bits]) => ip.kind() === network.kind() && ip.match(network, bits));
  };
}
