import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../src/config/index.js';
import { LibconfigSyntaxError } from '../../../src/libconfig/index.js';

const FIXTURES = join(__dirname, '../../fixtures/config');
const pairs = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.conf'))
  .map((name) => name.slice(0, -'.conf'.length));

function expectedLines(name: string): string[] {
  const text = readFileSync(join(FIXTURES, `${name}.expected`), 'utf8');
  return text.split('\n').filter((line) => line !== '').map((line) => `${FIXTURES}/${line}`);
}

function problemLines(path: string): string[] {
  try {
    loadConfig(path);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
}

describe('loadConfig fixtures', () => {
  it('finds the fixture pairs', () => {
    expect(pairs).toEqual(expect.arrayContaining(['good-empty', 'good-full', 'good-include', 'bad-values', 'bad-unknown', 'bad-kinds', 'bad-syntax']));
  });

  it.each(pairs)('loadConfig reports exactly the expected lines for %s.conf', (name) => {
    expect(problemLines(join(FIXTURES, `${name}.conf`))).toEqual(expectedLines(name));
  });
});

describe('loadConfig', () => {
  it('loadConfig reads every setting of a full file', () => {
    const config = loadConfig(join(FIXTURES, 'good-full.conf'));
    expect(config).toEqual({
      hostname: 'mx1.example.org',
      domains: ['example.org', 'example.net'],
      user: 'mta',
      group: 'mta',
      pidFile: '/run/mta/mta.pid',
      shutdownTimeoutMs: 45_000,
      log: { file: '/var/log/mta/mta.log', level: 'debug' },
      server: {
        listen: [
          { host: '0.0.0.0', port: 25, mode: 'smtp', text: '0.0.0.0:25' },
          { host: '::', port: 25, mode: 'smtp', text: '[::]:25/smtp' },
          { host: '127.0.0.1', port: 587, mode: 'submission', text: '127.0.0.1:587/submission' },
          { host: '::1', port: 465, mode: 'submissions', text: '[::1]:465/submissions' },
        ],
        workers: 4,
        relayNetworks: ['127.0.0.0/8', '::1/128', '192.0.2.0/24', '2001:db8::/32'],
        reverseDns: 'require',
        dnsbl: [],
        rejectClientAt: 'rcpt',
        maxMessageBytes: 52_428_800,
        maxRecipients: 1000,
        maxConnections: 500,
        maxConnectionsPerIp: 10,
        maxConnectionRate: 30,
        maxMessageRate: 120,
        minDataRate: 500,
        greetingDelayMs: 6_000,
        maxErrors: 5,
        softErrorLimit: 3,
        maxJunkCommands: 50,
        vrfy: '252',
        bareLinefeed: 'normalize',
        timeouts: { commandMs: 300_000, dataBlockMs: 180_000, dataEndMs: 600_000, sessionMs: 1_800_000, tlsHandshakeMs: 30_000 },
      },
      maildir: { root: '/var/mail', createMailboxes: false, aliasesFile: 'include/aliases', recipientDelimiter: '-' },
      queue: { root: '/var/spool/mta' },
      relay: { workers: 2, maxQueueLifetimeMs: 259_200_000, retryMinIntervalMs: 60_000, retryMaxIntervalMs: 7_200_000, smarthost: '[192.0.2.25]:587', transports: [{ domain: 'partner.example', nextHop: { host: '192.0.2.5', port: 2525 } }], port: 25, tls: 'verify', maxConnections: 100, maxMessagesPerSession: 1000, connectTimeoutMs: 30_000, commandTimeoutMs: 300_000, dataEndTimeoutMs: 600_000 },
      dns: { servers: ['127.0.0.1:5353', '[::1]:53'], timeoutMs: 3_000 },
      tls: {
        certificate: '/etc/ssl/certs/ssl-cert-snakeoil.pem',
        key: '/etc/ssl/private/ssl-cert-snakeoil.key',
        sniCertificates: ['/etc/mta/sni/mail.example.net.pem'],
      },
      auth: { database: '/var/lib/mta/users.db', allowPlaintextLoopback: true, maxFailures: 5, lockoutMs: 600_000 },
    });
  });

  it('loadConfig follows @include relative to the file', () => {
    expect(loadConfig(join(FIXTURES, 'good-include.conf')).relay.workers).toBe(3);
  });

  it('loadConfig turns a syntax error into a ConfigError with one problem', () => {
    const path = join(FIXTURES, 'bad-syntax.conf');
    try {
      loadConfig(path);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const e = error as ConfigError;
      expect(e.problems).toHaveLength(1);
      expect(e.problems[0]?.file).toBe(path);
      expect(e.problems[0]?.line).toBe(3);
      expect(e.cause).toBeInstanceOf(LibconfigSyntaxError);
    }
  });

  it('loadConfig lets a missing file surface as the fs error', () => {
    expect(() => loadConfig(join(FIXTURES, 'no-such-file.conf'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('parseConfig names the file in messages and accepts empty text', () => {
    expect(parseConfig('', 'inline.conf').server.workers).toBe(2);
    expect(() => parseConfig('server = { workers = 0; };\n', 'inline.conf')).toThrow('inline.conf:1: server.workers must be an integer from 1 to 64, got 0');
  });

  it('parseConfig reports a problem on the line of the value inside a multi-line array', () => {
    const text = 'domains = [\n  "example.org",\n  "bad domain"\n];\n';
    expect(() => parseConfig(text, 'inline.conf')).toThrow(/^inline\.conf:3: domains: "bad domain"/);
  });
});
