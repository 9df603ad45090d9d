import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, schemaRows, validateConfig, type Config } from '../../../src/config/index.js';
import { tree, type Spec } from './build-tree.js';

/** Validates and returns the problem lines, or [] when the tree is valid. */
function problems(spec: { readonly [name: string]: Spec }): string[] {
  try {
    validateConfig(tree(spec));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n');
  }
}

/** Settings that must move along with a key's bounds (written after it, so its line is unchanged). */
const COMPANIONS: Readonly<Record<string, { readonly [name: string]: Spec }>> = {
  'relay.retry_min_interval': { retry_max_interval: 86400 },
  'relay.retry_max_interval': { retry_min_interval: 1 },
};

/** Builds the nested spec that sets one dotted key (and its companion, if any). */
function setting(key: string, value: Spec): { readonly [name: string]: Spec } {
  const names = key.split('.');
  const last = names.pop() ?? '';
  return names.reverse().reduce<{ readonly [name: string]: Spec }>((inner, name) => ({ [name]: inner }), { [last]: value, ...COMPANIONS[key] });
}

/** Line of the value of a dotted key built by setting(): one line per level. */
function lineOf(key: string): number {
  return key.split('.').length;
}

const EXPECTED_DEFAULTS: Config = {
  hostname: hostname(),
  domains: ['localhost'],
  user: null,
  group: null,
  pidFile: null,
  shutdownTimeoutMs: 30_000,
  log: { file: null, level: 'info' },
  server: {
    listen: [
      { host: '127.0.0.1', port: 2525, mode: 'smtp', text: '127.0.0.1:2525' },
      { host: '::1', port: 2525, mode: 'smtp', text: '[::1]:2525' },
    ],
    workers: 2,
    relayNetworks: ['127.0.0.0/8', '::1/128'],
    reverseDns: 'log',
    maxMessageBytes: 36_700_160,
    maxRecipients: 100,
    maxConnections: 100,
    maxConnectionsPerIp: 20,
    maxConnectionRate: 600,
    maxMessageRate: 0,
    minDataRate: 256,
    greetingDelayMs: 0,
    maxErrors: 20,
    softErrorLimit: 10,
    maxJunkCommands: 100,
    vrfy: 'error',
    bareLinefeed: 'reject',
    dnsbl: [],
    rejectClientAt: 'rcpt',
    timeouts: { commandMs: 300_000, dataBlockMs: 180_000, dataEndMs: 600_000, sessionMs: 3_600_000, tlsHandshakeMs: 60_000 },
  },
  maildir: { root: './var/mail', createMailboxes: false, aliasesFile: '', recipientDelimiter: '+' },
  queue: { root: './var/queue' },
  relay: { workers: 1, maxQueueLifetimeMs: 432_000_000, retryMinIntervalMs: 300_000, retryMaxIntervalMs: 3_600_000, smarthost: null, transports: [], port: 25, tls: 'may', maxConnections: 100, maxMessagesPerSession: 1000, connectTimeoutMs: 30_000, commandTimeoutMs: 300_000, dataEndTimeoutMs: 600_000 },
  dns: { servers: [], timeoutMs: 5_000 },
  tls: { certificate: null, key: null, sniCertificates: [] },
  auth: { database: './var/auth/users.db', allowPlaintextLoopback: false, maxFailures: 10, lockoutMs: 900_000 },
};

describe('validateConfig defaults', () => {
  it('validateConfig gives every default for an empty file', () => {
    expect(validateConfig(tree({}))).toEqual(EXPECTED_DEFAULTS);
  });

  it('defaultConfig is the config of an empty file, except that it creates mailboxes for the tour', () => {
    expect(defaultConfig()).toEqual({ ...EXPECTED_DEFAULTS, maildir: { ...EXPECTED_DEFAULTS.maildir, createMailboxes: true } });
  });

  it('validateConfig returns a deeply frozen config', () => {
    const config = validateConfig(tree({ domains: ['example.org'] }));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server.timeouts)).toBe(true);
    expect(Object.isFrozen(config.server.listen)).toBe(true);
    expect(Object.isFrozen(config.server.listen[0])).toBe(true);
    expect(Object.isFrozen(config.domains)).toBe(true);
  });

  it('validateConfig keeps defaults of other keys in a partly written group', () => {
    const config = validateConfig(tree({ server: { workers: 8, timeouts: { command: 60 } } }));
    expect(config.server.workers).toBe(8);
    expect(config.server.maxErrors).toBe(20);
    expect(config.server.timeouts).toEqual({ commandMs: 60_000, dataBlockMs: 180_000, dataEndMs: 600_000, sessionMs: 3_600_000, tlsHandshakeMs: 60_000 });
  });
});

describe('validateConfig integers', () => {
  const integerRows = schemaRows().filter(([, s]) => s.type.startsWith('integer'));

  it.each(integerRows.map(([, s]) => [s.key, s] as const))('%s accepts its bounds and rejects values just outside', (key, s) => {
    const [min, max] = s.range.split(' to ').map(Number) as [number, number];
    const scale = s.type === 'integer (seconds)' ? 1000 : 1;
    const field = (config: Config): unknown => schemaRows().find(([, r]) => r.key === key)?.[0].split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], config);
    expect(field(validateConfig(tree(setting(key, min))))).toBe(min * scale);
    expect(field(validateConfig(tree(setting(key, max))))).toBe(max * scale);
    const word = s.type === 'integer (seconds)' ? 'a number of seconds' : s.type === 'integer (bytes)' ? 'a number of bytes' : 'an integer';
    expect(problems(setting(key, min - 1))).toEqual([`mta.conf:${lineOf(key)}: ${key} must be ${word} from ${min} to ${max}, got ${min - 1}`]);
    expect(problems(setting(key, max + 1))).toEqual([`mta.conf:${lineOf(key)}: ${key} must be ${word} from ${min} to ${max}, got ${max + 1}`]);
  });

  it('server.workers shows a string value quoted', () => {
    expect(problems({ server: { workers: 'four' } })).toEqual(['mta.conf:2: server.workers must be an integer from 1 to 64, got "four"']);
  });

  it('server.workers rejects a float, even a whole one', () => {
    expect(problems({ server: { workers: { float: 2 } } })).toEqual(['mta.conf:2: server.workers must be an integer from 1 to 64, got 2.0']);
    expect(problems({ server: { workers: 2.5 } })).toEqual(['mta.conf:2: server.workers must be an integer from 1 to 64, got 2.5']);
  });

  it('int64 values within range are accepted', () => {
    expect(validateConfig(tree({ server: { max_message_size: 1048576n } })).server.maxMessageBytes).toBe(1048576);
  });

  it('int64 values outside the range are errors, never truncated', () => {
    // 2^32 + 2 would become 2 if cut to 32 bits.
    expect(problems({ server: { workers: 4294967298n } })).toEqual(['mta.conf:2: server.workers must be an integer from 1 to 64, got 4294967298']);
    expect(problems({ server: { max_message_size: 2147483648n } })).toEqual([
      'mta.conf:2: server.max_message_size must be a number of bytes from 1024 to 2147483647, got 2147483648',
    ]);
  });

  it('seconds in the file become milliseconds in the config', () => {
    const config = validateConfig(tree({ shutdown_timeout: 5, relay: { max_queue_lifetime: 86400 }, dns: { timeout: 2 } }));
    expect(config.shutdownTimeoutMs).toBe(5000);
    expect(config.relay.maxQueueLifetimeMs).toBe(86_400_000);
    expect(config.dns.timeoutMs).toBe(2000);
  });
});

describe('validateConfig words and flags', () => {
  it('log.level accepts each level and lists them on error', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace']) {
      expect(validateConfig(tree({ log: { level } })).log.level).toBe(level);
    }
    expect(problems({ log: { level: 'verbose' } })).toEqual([
      'mta.conf:2: log.level must be one of "fatal", "error", "warn", "info", "debug", "trace", got "verbose"',
    ]);
  });

  it('enums are case-sensitive and reject non-strings', () => {
    expect(problems({ server: { reverse_dns: 'Require', bare_linefeed: 1 } })).toEqual([
      'mta.conf:2: server.reverse_dns must be one of "off", "log", "require", got "Require"',
      'mta.conf:3: server.bare_linefeed must be one of "reject", "normalize", got 1',
    ]);
  });

  it('maildir.create_mailboxes takes only booleans', () => {
    expect(validateConfig(tree({ maildir: { create_mailboxes: false } })).maildir.createMailboxes).toBe(false);
    expect(problems({ maildir: { create_mailboxes: 'no' } })).toEqual(['mta.conf:2: maildir.create_mailboxes must be true or false, got "no"']);
  });

  it('maildir.recipient_delimiter is empty or one punctuation character', () => {
    expect(validateConfig(tree({ maildir: { recipient_delimiter: '' } })).maildir.recipientDelimiter).toBe('');
    expect(validateConfig(tree({ maildir: { recipient_delimiter: '-' } })).maildir.recipientDelimiter).toBe('-');
    for (const bad of ['+-', 'x', '@', ' ']) {
      expect(problems({ maildir: { recipient_delimiter: bad } })).toEqual([
        `mta.conf:2: maildir.recipient_delimiter must be "" or one punctuation character such as "+" or "-", got ${JSON.stringify(bad)}`,
      ]);
    }
  });

  it('optional strings are null when left out and must not be empty when set', () => {
    const config = validateConfig(tree({ user: 'mta', group: 'mail', pid_file: '/run/mta.pid', log: { file: '/var/log/mta/mta.log' } }));
    expect([config.user, config.group, config.pidFile, config.log.file]).toEqual(['mta', 'mail', '/run/mta.pid', '/var/log/mta/mta.log']);
    expect(problems({ log: { file: '' }, pid_file: '' })).toEqual([
      'mta.conf:2: log.file must be a non-empty path, got ""',
      'mta.conf:3: pid_file must be a non-empty path, got ""',
    ]);
  });

  it('user and group must look like account names', () => {
    expect(problems({ user: 'mail user', group: 42 })).toEqual([
      'mta.conf:1: user must be a user or group name such as "mta", got "mail user"',
      'mta.conf:2: group must be a string, got 42',
    ]);
  });

  it('relative paths stay as written', () => {
    const config = validateConfig(tree({ maildir: { root: 'mail' }, queue: { root: '../spool' } }));
    expect([config.maildir.root, config.queue.root]).toEqual(['mail', '../spool']);
  });

  it('hostname must be a domain name', () => {
    expect(validateConfig(tree({ hostname: 'MX.Example.org' })).hostname).toBe('MX.Example.org');
    expect(problems({ hostname: 'mx..example.org' })).toEqual([
      'mta.conf:1: hostname must be a fully qualified domain name (it has an empty label), got "mx..example.org"',
    ]);
  });
});

describe('validateConfig lists', () => {
  it('domains are lower-cased', () => {
    expect(validateConfig(tree({ domains: ['Example.ORG', 'mail.example.net'] })).domains).toEqual(['example.org', 'mail.example.net']);
  });

  it('domains may be empty (relay only)', () => {
    expect(validateConfig(tree({ domains: [] })).domains).toEqual([]);
  });

  it('domains reports each bad item', () => {
    expect(problems({ domains: ['example.org', '-bad.org', 'a_b.org', '192.0.2.1', 'bücher.de', 'Example.org'] })).toEqual([
      'mta.conf:1: domains: "-bad.org" is not a valid domain name: label "-bad" starts or ends with a hyphen',
      'mta.conf:1: domains: "a_b.org" is not a valid domain name: label "a_b" has characters other than letters, digits and hyphens',
      'mta.conf:1: domains: "192.0.2.1" is not a valid domain name: it is an IP address',
      'mta.conf:1: domains: "bücher.de" is not a valid domain name: it is not ASCII; write it as "xn--bcher-kva.de"',
      'mta.conf:1: domains: "Example.org" is listed twice',
    ]);
  });

  it('a single string where an array is expected is an error', () => {
    expect(problems({ domains: 'example.org' })).toEqual(['mta.conf:1: domains must be an array of strings such as [ "a", "b" ], got "example.org"']);
  });

  it('non-strings inside an array or list are errors', () => {
    expect(problems({ domains: [1], dns: { servers: ['192.0.2.53', { a: 1 }] } })).toEqual([
      'mta.conf:1: domains must hold only strings, got 1',
      'mta.conf:3: dns.servers must hold only strings, got a group',
    ]);
  });

  it('server.listen parses IPv4 and bracketed IPv6 addresses', () => {
    expect(validateConfig(tree({ server: { listen: ['0.0.0.0:25', '[::]:25', '[::1]:2525'] } })).server.listen).toEqual([
      { host: '0.0.0.0', port: 25, mode: 'smtp', text: '0.0.0.0:25' },
      { host: '::', port: 25, mode: 'smtp', text: '[::]:25' },
      { host: '::1', port: 2525, mode: 'smtp', text: '[::1]:2525' },
    ]);
  });

  it('server.listen takes a mode after a slash: smtp, submission, submissions', () => {
    const config = validateConfig(
      tree({ server: { listen: ['0.0.0.0:25/smtp', '[::]:587/submission', '0.0.0.0:465/submissions'] }, tls: { certificate: '/c.pem', key: '/k.pem' } }),
    );
    expect(config.server.listen).toEqual([
      { host: '0.0.0.0', port: 25, mode: 'smtp', text: '0.0.0.0:25/smtp' },
      { host: '::', port: 587, mode: 'submission', text: '[::]:587/submission' },
      { host: '0.0.0.0', port: 465, mode: 'submissions', text: '0.0.0.0:465/submissions' },
    ]);
    expect(problems({ server: { listen: ['0.0.0.0:587/smpt'] } })).toEqual([
      'mta.conf:2: server.listen: "0.0.0.0:587/smpt" has an unknown mode "smpt"; use "/smtp" (the default), "/submission" or "/submissions"',
    ]);
  });

  it('server.listen refuses submission ports without a certificate, and one address under two modes', () => {
    expect(problems({ server: { listen: ['0.0.0.0:587/submission', '0.0.0.0:465/submissions'] } })).toEqual([
      'mta.conf:2: server.listen: "0.0.0.0:587/submission", "0.0.0.0:465/submissions" need TLS; set tls.certificate and tls.key',
    ]);
    expect(problems({ server: { listen: ['0.0.0.0:25', '0.0.0.0:25/smtp'] } })).toEqual([
      'mta.conf:2: server.listen: "0.0.0.0:25/smtp" binds the same address and port as "0.0.0.0:25"',
    ]);
  });

  it('tls.certificate and tls.key go together', () => {
    expect(problems({ tls: { certificate: '/c.pem' } })).toEqual(['mta.conf:2: tls.certificate and tls.key must be set together']);
    expect(problems({ tls: { key: '/k.pem' } })).toEqual(['mta.conf:2: tls.certificate and tls.key must be set together']);
  });

  it('auth settings take their ranges', () => {
    expect(validateConfig(tree({ auth: { max_failures: 3, lockout: 60, allow_plaintext_loopback: true } })).auth).toEqual({
      database: './var/auth/users.db',
      allowPlaintextLoopback: true,
      maxFailures: 3,
      lockoutMs: 60_000,
    });
    expect(problems({ auth: { max_failures: 0 } })).toEqual(['mta.conf:2: auth.max_failures must be an integer from 1 to 1000, got 0']);
  });

  it('server.listen rejects missing ports, host names, bare IPv6 and bad ports', () => {
    expect(problems({ server: { listen: ['0.0.0.0', 'localhost:25', '::1', '0.0.0.0:0', '[::]:65536', '[127.0.0.1]:25'] } })).toEqual([
      'mta.conf:2: server.listen: "0.0.0.0" has no port; write it as "0.0.0.0:25"',
      'mta.conf:2: server.listen: "localhost:25" is not an IP address and port such as "0.0.0.0:25" or "[::]:25" (IPv6 in brackets; host names are not looked up)',
      'mta.conf:2: server.listen: "::1" is not an IP address and port such as "[::1]:25" (IPv6 in brackets; host names are not looked up)',
      'mta.conf:2: server.listen: "0.0.0.0:0" has a port outside 1 to 65535',
      'mta.conf:2: server.listen: "[::]:65536" has a port outside 1 to 65535',
      'mta.conf:2: server.listen: "[127.0.0.1]:25" is not an IP address and port such as "127.0.0.1:25" (IPv6 in brackets; host names are not looked up)',
    ]);
  });

  it('server.listen needs at least one address and no repeats', () => {
    expect(problems({ server: { listen: [] } })).toEqual(['mta.conf:2: server.listen must have at least 1 address, got none']);
    expect(problems({ server: { listen: ['[::]:25', '[::]:25'] } })).toEqual(['mta.conf:2: server.listen: "[::]:25" is listed twice']);
  });

  it('server.relay_networks takes IPv4 and IPv6 CIDR and single addresses', () => {
    const config = validateConfig(tree({ server: { relay_networks: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1', '0.0.0.0/0', '::ffff:192.0.2.0/120'] } }));
    expect(config.server.relayNetworks).toEqual(['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32', '::1/128', '0.0.0.0/0', '::ffff:192.0.2.0/120']);
  });

  it('server.relay_networks rejects bad networks, prefixes and host bits', () => {
    expect(problems({ server: { relay_networks: ['10.0.0.1/8', '2001:db8::1/32', '10.0.0.0/33', '::/129', 'example.org/24', '10.0.0.0/x', 'fe80::1%eth0/64'] } })).toEqual([
      'mta.conf:2: server.relay_networks: "10.0.0.1/8" has host bits set; did you mean "10.0.0.0/8"?',
      'mta.conf:2: server.relay_networks: "2001:db8::1/32" has host bits set; did you mean "2001:db8::/32"?',
      'mta.conf:2: server.relay_networks: "10.0.0.0/33" has a prefix length outside 0 to 32',
      'mta.conf:2: server.relay_networks: "::/129" has a prefix length outside 0 to 128',
      'mta.conf:2: server.relay_networks: "example.org/24" is not a network such as "192.0.2.0/24" or "2001:db8::/32"',
      'mta.conf:2: server.relay_networks: "10.0.0.0/x" has a prefix length outside 0 to 32',
      'mta.conf:2: server.relay_networks: "fe80::1%eth0/64" is not a network such as "192.0.2.0/24" or "2001:db8::/32"',
    ]);
  });

  it('dns.servers takes addresses with optional ports', () => {
    const servers = ['192.0.2.53', '127.0.0.1:5353', '::1', '[::1]:5353', '[2001:db8::53]'];
    expect(validateConfig(tree({ dns: { servers } })).dns.servers).toEqual(servers);
  });

  it('dns.servers rejects names and bad ports', () => {
    expect(problems({ dns: { servers: ['ns.example.org', '127.0.0.1:99999', '[192.0.2.1]:53'] } })).toEqual([
      'mta.conf:2: dns.servers: "ns.example.org" is not an IP address with an optional port such as "192.0.2.53", "127.0.0.1:5353" or "[::1]:53"',
      'mta.conf:2: dns.servers: "127.0.0.1:99999" has a port outside 1 to 65535',
      'mta.conf:2: dns.servers: "[192.0.2.1]:53" is not an IP address with an optional port such as "192.0.2.53", "127.0.0.1:5353" or "[::1]:53"',
    ]);
  });
});

describe('validateConfig structure', () => {
  it('an unknown key gets a did-you-mean from its siblings', () => {
    expect(problems({ server: { wokers: 4 } })).toEqual(['mta.conf:2: unknown setting "server.wokers"; did you mean "server.workers"?']);
    expect(problems({ server: { timeouts: { comand: 4 } } })).toEqual([
      'mta.conf:3: unknown setting "server.timeouts.comand"; did you mean "server.timeouts.command"?',
    ]);
    expect(problems({ domain: ['example.org'] })).toEqual(['mta.conf:1: unknown setting "domain"; did you mean "domains"?']);
    expect(problems({ server: { timeout: {} } })).toEqual(['mta.conf:2: unknown setting "server.timeout"; did you mean "server.timeouts"?']);
  });

  it('did-you-mean forgives case and hyphens', () => {
    expect(problems({ server: { 'max-errors': 3, Workers: 2 } })).toEqual([
      'mta.conf:2: unknown setting "server.max-errors"; did you mean "server.max_errors"?',
      'mta.conf:3: unknown setting "server.Workers"; did you mean "server.workers"?',
    ]);
  });

  it('a key in the wrong group is pointed at the right one', () => {
    expect(problems({ server: { hostname: 'mx.example.org' } })).toEqual(['mta.conf:2: unknown setting "server.hostname"; did you mean "hostname"?']);
    expect(problems({ timeouts: { command: 1 } })).toEqual(['mta.conf:1: unknown setting "timeouts"; did you mean "server.timeouts"?']);
  });

  it('an unknown key with nothing close gets no suggestion', () => {
    expect(problems({ milter: { socket: '/run/milter.sock' } })).toEqual(['mta.conf:1: unknown setting "milter"']);
  });

  it('a group where a scalar is expected is an error', () => {
    expect(problems({ hostname: { name: 'x' }, server: { workers: { n: 1 } } })).toEqual([
      'mta.conf:1: hostname must be a string, got a group',
      'mta.conf:4: server.workers must be an integer from 1 to 64, got a group',
    ]);
  });

  it('a scalar or array where a group is expected is an error', () => {
    expect(problems({ server: 'mx', log: ['a'] })).toEqual([
      'mta.conf:1: server must be a group of settings such as server = { ... }; got "mx"',
      'mta.conf:2: log must be a group of settings such as log = { ... }; got an array',
    ]);
  });

  it('relay.retry_min_interval must not exceed relay.retry_max_interval', () => {
    expect(problems({ relay: { retry_min_interval: 600, retry_max_interval: 300 } })).toEqual([
      'mta.conf:2: relay.retry_min_interval (600) must not be greater than relay.retry_max_interval (300)',
    ]);
    expect(problems({ relay: { retry_max_interval: 60 } })).toEqual([
      'mta.conf:2: relay.retry_min_interval (300) must not be greater than relay.retry_max_interval (60)',
    ]);
  });

  it('every problem is reported at once, in file order', () => {
    const lines = problems({
      hostname: 'ok.example.org',
      domains: ['bad domain'],
      server: { wokers: 4, max_errors: 0, timeouts: { session: 'long' } },
      log: { level: 'loud' },
      maildir: 7,
    });
    expect(lines).toEqual([
      'mta.conf:2: domains: "bad domain" is not a valid domain name: label "bad domain" has characters other than letters, digits and hyphens',
      'mta.conf:4: unknown setting "server.wokers"; did you mean "server.workers"?',
      'mta.conf:5: server.max_errors must be an integer from 1 to 1000, got 0',
      'mta.conf:7: server.timeouts.session must be a number of seconds from 1 to 86400, got "long"',
      'mta.conf:9: log.level must be one of "fatal", "error", "warn", "info", "debug", "trace", got "loud"',
      'mta.conf:10: maildir must be a group of settings such as maildir = { ... }; got 7',
    ]);
  });

  it('ConfigError carries a stable code and the problems as data', () => {
    try {
      validateConfig(tree({ server: { workers: 0 } }, '/etc/mta.conf'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toBeInstanceOf(SyntaxError);
      const e = error as ConfigError;
      expect(e.code).toBe('MTA_ERR_CONFIG');
      expect(e.problems).toEqual([{ file: '/etc/mta.conf', line: 2, message: 'server.workers must be an integer from 1 to 64, got 0' }]);
      expect([e.file, e.line]).toEqual(['/etc/mta.conf', 2]);
    }
  });
});
