// Shared helpers for the queue and delivery tests: temp directories kept (and printed) when a
// test fails, a Config pointing into one, a recording logger, and a sample incoming message.
import { closeSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';
import type { Config } from '../../../src/config/types.js';
import type { IncomingEnvelope, MessageWriter } from '../../../src/server/message-sink.js';
import { buildIntake, buildRunner, recover, type WiringOptions } from '../../../src/cli/wiring.js';
import { QueueStore } from '../../../src/queue/store.js';
import { ENVELOPE_VERSION } from '../../../src/queue/envelope.js';
import type { QueueEnvelope } from '../../../src/queue/envelope.js';

/** Creates a temp directory for the current test; removed on success, kept and printed on failure. */
export async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `mta-${label}-`));
  let failed = false;
  onTestFailed(() => {
    failed = true;
    process.stderr.write(`kept temp directory of failed test: ${dir}\n`);
  });
  cleanups.push(async () => {
    if (!failed) await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

const cleanups: (() => Promise<void>)[] = [];

/** Removes the temp directories of passed tests; call from afterEach. */
export async function cleanTempDirs(): Promise<void> {
  for (const clean of cleanups.splice(0)) await clean();
}

/** A log line as recorded by testLogger. */
export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly obj: object;
}

/** Returns a logger that records its lines, pino-shaped. */
export function testLogger(): { lines: LogLine[]; info: Log; warn: Log; error: Log } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']): Log => (obj, msg) => void lines.push({ level, msg, obj });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
type Log = (obj: object, msg: string) => void;

/** Returns a Config whose queue and maildir live under `root`. */
export function testConfig(root: string, overrides: { createMailboxes?: boolean; recipientDelimiter?: string } = {}): Config {
  return {
    hostname: 'mx.example.org',
    domains: ['example.org', 'example.net'],
    user: null,
    group: null,
    pidFile: null,
    shutdownTimeoutMs: 1000,
    log: { file: null, level: 'info' },
    server: {
      listen: [],
      workers: 1,
      relayNetworks: [],
      reverseDns: 'off',
      dnsbl: [],
      rejectClientAt: 'rcpt',
      maxMessageBytes: 1 << 20,
      maxRecipients: 100,
      maxConnections: 10,
      maxConnectionsPerIp: 10,
      maxConnectionRate: 0,
      maxMessageRate: 0,
      minDataRate: 0,
      greetingDelayMs: 0,
      maxErrors: 10,
      softErrorLimit: 10,
      maxJunkCommands: 100,
      vrfy: 'error',
      bareLinefeed: 'reject',
      timeouts: { commandMs: 1000, dataBlockMs: 1000, dataEndMs: 1000, sessionMs: 1000, tlsHandshakeMs: 1000 },
    },
    maildir: {
      root: join(root, 'mail'),
      createMailboxes: overrides.createMailboxes ?? true,
      aliasesFile: '',
      recipientDelimiter: overrides.recipientDelimiter ?? '+',
    },
    queue: { root: join(root, 'spool') },
    relay: { workers: 1, maxQueueLifetimeMs: 5 * 86_400_000, retryMinIntervalMs: 300_000, retryMaxIntervalMs: 3_600_000, smarthost: null, transports: [], port: 25, tls: 'may', maxConnections: 100, maxMessagesPerSession: 100, connectTimeoutMs: 30_000, commandTimeoutMs: 300_000, dataEndTimeoutMs: 600_000 },
    dns: { servers: [], timeoutMs: 1000 },
    tls: { certificate: null, key: null, sniCertificates: [] },
    auth: { database: join(root, 'auth/users.db'), allowPlaintextLoopback: false, maxFailures: 10, lockoutMs: 900_000 },
  };
}

/** Returns an incoming envelope for the given recipients. */
export function incoming(recipients: readonly string[], reversePath = 'alice@remote.test'): IncomingEnvelope {
  return {
    reversePath,
    recipients,
    bodyType: '8bitmime',
    client: { address: '192.0.2.1', helo: 'client.remote.test', ptr: 'client.remote.test' },
  };
}

/** A short message with CRLF line ends, as the listener writes it. */
export const SAMPLE_MESSAGE =
  'Received: from client.remote.test by mx.example.org; Thu, 2 Jan 2025 03:04:05 +0000\r\n' +
  'From: alice@remote.test\r\nTo: bob@example.org\r\nSubject: hello\r\n\r\nLine one\r\nLine two\r\n';

/** Returns a valid envelope with every recipient status. */
export function sampleEnvelope(overrides: Partial<QueueEnvelope> = {}): QueueEnvelope {
  return {
    version: ENVELOPE_VERSION,
    queueId: '0123456789ABCDEF',
    reversePath: 'alice@remote.test',
    recipients: [
      { address: 'a@remote.test', status: 'pending' },
      { address: 'b@example.org', status: 'delivered', deliveredAt: '2025-01-02T03:04:06.000Z' },
      {
        address: 'c@example.org',
        status: 'deferred',
        lastReply: { code: 452, enhancedCode: '4.3.1', lines: ['Insufficient system storage'] },
        nextAttemptAt: '2025-01-02T03:09:05.000Z',
      },
      { address: 'd@example.org', status: 'failed', lastReply: { code: 550, enhancedCode: '5.1.1', lines: ['unknown'] } },
    ],
    arrivedAt: '2025-01-02T03:04:05.000Z',
    attempts: 1,
    client: { address: '192.0.2.1', helo: 'client.remote.test', ptr: null },
    bodyType: '7bit',
    size: 123,
    ...overrides,
  };
}

/** Puts a message into a store the way the intake does; returns its queue id. */
export async function enqueue(
  store: import('../../../src/queue/store.js').QueueStore,
  overrides: Partial<QueueEnvelope> = {},
  data = SAMPLE_MESSAGE,
): Promise<string> {
  const spool = await store.createSpool();
  writeFileSync(spool.fd, data);
  closeSync(spool.fd);
  await store.commitSpool(spool, sampleEnvelope({ size: Buffer.byteLength(data), ...overrides, queueId: spool.queueId }));
  return spool.queueId;
}

/**
 * The daemon's mail path over a test config, running as whoever runs the tests: the intake (whose
 * open() throws the refusal, for brevity), a runner whose runOnce() reads the queue and runs what
 * is due, the store, and recovery.
 */
export function testMail(config: Config, logger: ReturnType<typeof testLogger>, options: WiringOptions = {}) {
  const wiring = { allowRoot: true, ...options };
  const intake = buildIntake(config, logger, undefined, wiring);
  const runner = buildRunner(config, logger, wiring);
  return {
    sink: {
      async open(envelope: IncomingEnvelope): Promise<MessageWriter> {
        const opened = await intake.open(envelope);
        if (!opened.ok) throw Object.assign(new Error('open refused'), { reply: opened.reply });
        return opened.writer;
      },
      checkRecipient: (address: string) => intake.checkRecipient(address),
    },
    runner: {
      async runOnce(): Promise<number> {
        await runner.rescan();
        return runner.runDue();
      },
    },
    store: new QueueStore(config.queue.root),
    recover: () => recover(config, logger),
  };
}
