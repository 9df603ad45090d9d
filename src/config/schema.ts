// The one table of settings: for every field of Config, the key in the file, its rule (type, range,
// default) and a line of documentation. Validation, defaults and the docs-completeness tests all
// derive from SCHEMA; the compiler checks that it covers every field of Config with the right type.

import { hostname as osHostname } from 'node:os';
import type { Config } from './types.js';
import { flag, integer, list, oneOf, optionalText, text, type Rule } from './rules.js';
import {
  checkAccountName,
  checkDelimiter,
  checkHostname,
  checkOptionalPath,
  checkNextHop,
  checkPath,
  parseCidr,
  parseDnsServer,
  parseDomain,
  parseListen,
  parseTransport,
  parsePemPath,
} from './addresses.js';

type Leaf = string | number | boolean | null | readonly unknown[];

/** Dotted paths of the leaf fields of T (arrays count as leaves), e.g. `server.timeouts.commandMs`. */
export type FieldPath<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends Leaf ? `${Prefix}${K}` : FieldPath<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** The type of the field at a dotted path. */
export type FieldType<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? FieldType<T[Head], Rest>
    : never
  : P extends keyof T
    ? T[P]
    : never;

/** One row of the table: the setting's dotted key in the file, its rule and what it does. */
export type Setting<T> = Rule<T> & {
  /** Dotted key as written in the file, snake_case, e.g. `server.timeouts.command`. */
  readonly key: string;
  /** One line on what the setting does. */
  readonly doc: string;
};

/** The table type: one row per Config field, typed by that field. */
export type Schema = { readonly [P in FieldPath<Config>]: Setting<FieldType<Config, P>> };

function row<T>(key: string, rule: Rule<T>, doc: string): Setting<T> {
  return { ...rule, key, doc };
}

const DAY = 86400;

/** Every setting of the config file, in the order the docs and etc/mta.conf present them. */
export const SCHEMA: Schema = {
  hostname: row('hostname', text(() => osHostname(), 'the system host name', checkHostname), 'Name the server gives itself in the greeting, EHLO, Received headers and bounces'),
  domains: row('domains', list(['localhost'], parseDomain, { itemName: 'domain name' }), 'Local domains: mail for them is delivered into Maildir, all other mail is relayed'),
  user: row('user', optionalText('unset (stay the starting user)', checkAccountName), 'Unprivileged user to switch to after binding the listening sockets as root'),
  group: row('group', optionalText("unset (the user's primary group)", checkAccountName), 'Group to switch to together with user'),
  pidFile: row('pid_file', optionalText('unset (no pid file)', checkPath), 'File the supervisor writes its process id into, for init scripts'),
  shutdownTimeoutMs: row('shutdown_timeout', integer(1, 3600, 30, 'seconds'), 'How long SIGTERM waits for open sessions and deliveries before closing them'),

  'log.file': row('log.file', optionalText('unset (stderr)', checkPath), 'File to append JSON log lines to; reopened on SIGHUP'),
  'log.level': row('log.level', oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, 'info'), 'Least severe level that is written'),

  'server.listen': row('server.listen', list(['127.0.0.1:2525', '[::1]:2525'], parseListen, { itemName: 'address', minItems: 1 }), 'Addresses and ports to accept SMTP connections on, each with an optional mode (/smtp, /submission, /submissions); bound as root before the privilege drop'),
  'server.workers': row('server.workers', integer(1, 64, 2), 'Number of SMTP worker processes sharing the listening sockets'),
  'server.relayNetworks': row('server.relay_networks', list(['127.0.0.0/8', '::1/128'], parseCidr, { itemName: 'CIDR network' }), 'Client networks allowed to send mail to non-local domains'),
  'server.reverseDns': row('server.reverse_dns', oneOf(['off', 'log', 'require'] as const, 'log'), 'Forward-confirmed reverse DNS of clients: skip it, record it, or refuse clients without it'),
  'server.dnsbl': row('server.dnsbl', list([], parseDomain, { itemName: 'DNS zone' }), 'DNS blocklist zones the client address is looked up in; a listed client is refused with 554 5.7.1'),
  'server.rejectClientAt': row('server.reject_client_at', oneOf(['rcpt', 'connect'] as const, 'rcpt'), 'When a client refused by reverse_dns = "require" or a DNS blocklist is told: at each RCPT (postmaster stays reachable) or at connect'),
  'server.maxMessageBytes': row('server.max_message_size', integer(1024, 2147483647, 36700160, 'bytes'), 'Largest message accepted (announced as SIZE in EHLO)'),
  'server.maxRecipients': row('server.max_recipients', integer(1, 100000, 100), 'Recipients accepted per message; RFC 5321 4.5.3.1.8 asks for at least 100'),
  'server.maxConnections': row('server.max_connections', integer(1, 100000, 100), 'Simultaneous SMTP sessions, across all workers'),
  'server.maxConnectionsPerIp': row('server.max_connections_per_ip', integer(1, 100000, 20), 'Simultaneous SMTP sessions from one client address'),
  'server.maxConnectionRate': row('server.max_connection_rate', integer(0, 100000, 600), 'New connections accepted from one client address per minute; 0 means no limit'),
  'server.maxMessageRate': row('server.max_message_rate', integer(0, 100000, 0), 'Messages (MAIL commands) accepted from one client address per minute, across all workers; 0 means no limit'),
  'server.minDataRate': row('server.min_data_rate', integer(0, 1000000000, 256), 'Slowest average rate, in bytes per second, at which a client may send message data; 0 turns the check off'),
  'server.greetingDelayMs': row('server.greeting_delay', integer(0, 60, 0, 'seconds'), 'Wait before the greeting; a client that talks before it is refused'),
  'server.maxErrors': row('server.max_errors', integer(1, 1000, 20), 'Client errors tolerated in a session before it is closed with 421'),
  'server.softErrorLimit': row('server.soft_error_limit', integer(1, 1000, 10), 'Client errors after which every reply of the session is delayed by one second'),
  'server.maxJunkCommands': row('server.max_junk_commands', integer(1, 100000, 100), 'HELO, EHLO, RSET, NOOP, HELP, VRFY and EXPN commands a session may send before each one counts as an error'),
  'server.vrfy': row('server.vrfy', oneOf(['error', '252'] as const, 'error'), 'How VRFY is answered: "error" refuses it with 502, "252" neither confirms nor denies the user'),
  'server.bareLinefeed': row('server.bare_linefeed', oneOf(['reject', 'normalize'] as const, 'reject'), 'What to do with a bare LF or CR in DATA (never an end of message: SMTP smuggling)'),
  'server.timeouts.commandMs': row('server.timeouts.command', integer(1, DAY, 300, 'seconds'), 'Wait for the next command (RFC 5321 4.5.3.2.7)'),
  'server.timeouts.dataBlockMs': row('server.timeouts.data_block', integer(1, DAY, 180, 'seconds'), 'Wait for each block of message data (RFC 5321 4.5.3.2.6)'),
  'server.timeouts.dataEndMs': row('server.timeouts.data_end', integer(1, DAY, 600, 'seconds'), 'Time a commit may take after the final dot before it is logged as overdue; the reply always waits for the commit, so a stored message is never answered 451 (RFC 5321 4.5.3.2.8 gives the client 10 minutes)'),
  'server.timeouts.sessionMs': row('server.timeouts.session', integer(1, DAY, 3600, 'seconds'), 'Cap on the length of a whole session'),
  'server.timeouts.tlsHandshakeMs': row('server.timeouts.tls_handshake', integer(1, 3600, 60, 'seconds'), 'Time a client has to complete the TLS handshake after STARTTLS, or after connecting to a submissions port'),

  'maildir.root': row('maildir.root', text('./var/mail', '"./var/mail"', checkPath), 'Directory holding the mailboxes, <root>/<domain>/<user>/'),
  'maildir.createMailboxes': row('maildir.create_mailboxes', flag(false), 'Create the mailbox of an unknown local user on first delivery; if false, RCPT to a user with no mailbox gets 550 5.1.1'),
  'maildir.aliasesFile': row('maildir.aliases', text('', '"" (no aliases)', checkOptionalPath), 'Aliases file in the /etc/aliases format; "" means no aliases'),
  'maildir.recipientDelimiter': row('maildir.recipient_delimiter', text('+', '"+"', checkDelimiter, '"" or one punctuation character'), 'Separator of address extensions: user+tag@ is delivered to user; "" turns it off'),

  'queue.root': row('queue.root', text('./var/queue', '"./var/queue"', checkPath), 'Directory holding the queue of messages waiting for relay'),

  'relay.workers': row('relay.workers', integer(1, 16, 1), 'Number of relay worker processes running the queue'),
  'relay.maxQueueLifetimeMs': row('relay.max_queue_lifetime', integer(1, 30 * DAY, 5 * DAY, 'seconds'), 'How long a deferred message is retried before it bounces'),
  'relay.retryMinIntervalMs': row('relay.retry_min_interval', integer(1, DAY, 300, 'seconds'), 'Shortest wait before retrying a deferred recipient'),
  'relay.smarthost': row('relay.smarthost', optionalText('unset (deliver to MX hosts)', checkNextHop), 'Host all remote mail is sent through instead of the MX hosts: "[192.0.2.1]:25" or "relay.example:587"'),
  'relay.transports': row('relay.transports', list([], parseTransport, { itemName: 'transport' }), 'Next hops for single domains, before smarthost and MX: "example.org [192.0.2.5]:2525"'),
  'relay.port': row('relay.port', integer(1, 65535, 25), 'TCP port of MX hosts'),
  'relay.tls': row('relay.tls', oneOf(['none', 'may', 'encrypt', 'verify'] as const, 'may'), 'STARTTLS to remote servers: never, when offered, required, or required with a valid certificate for the host name'),
  'relay.maxConnections': row('relay.max_connections', integer(1, 10000, 100), 'Outbound SMTP connections open at once, across all relay workers'),
  'relay.maxMessagesPerSession': row('relay.max_messages_per_session', integer(1, 10000, 1000), 'Messages sent over one connection before it is closed and a new one opened'),
  'relay.connectTimeoutMs': row('relay.connect_timeout', integer(1, 3600, 30, 'seconds'), 'Wait for a TCP connection to a remote server'),
  'relay.commandTimeoutMs': row('relay.command_timeout', integer(1, DAY, 300, 'seconds'), 'Wait for the greeting and each reply of a remote server (RFC 5321 4.5.3.2: 5 minutes)'),
  'relay.dataEndTimeoutMs': row('relay.data_end_timeout', integer(1, DAY, 600, 'seconds'), 'Wait for the reply to the final dot (RFC 5321 4.5.3.2.6: 10 minutes)'),
  'relay.retryMaxIntervalMs': row('relay.retry_max_interval', integer(1, DAY, 3600, 'seconds'), 'Longest wait between two retries of a deferred recipient'),

  'dns.servers': row('dns.servers', list([], parseDnsServer, { itemName: 'resolver address' }), 'DNS resolvers to ask for MX, A, AAAA and PTR records; empty means those of /etc/resolv.conf'),
  'dns.timeoutMs': row('dns.timeout', integer(1, 60, 5, 'seconds'), 'Wait for one DNS answer before the lookup counts as a temporary failure'),

  'tls.certificate': row('tls.certificate', optionalText('unset (no STARTTLS)', checkPath), 'PEM file with the server certificate followed by its chain; enables STARTTLS and the submission ports'),
  'tls.key': row('tls.key', optionalText('unset', checkPath), 'PEM file with the private key of tls.certificate; read as root before the privilege drop'),
  'tls.sniCertificates': row('tls.sni_certificates', list([], parsePemPath, { itemName: 'PEM file' }), 'Further PEM files, each with a certificate chain and its key, chosen when a client asks for one of the names in the certificate (SNI)'),

  'auth.database': row('auth.database', text('./var/auth/users.db', '"./var/auth/users.db"', checkPath), 'SQLite database of the users who may authenticate (managed with mta user); Dovecot can read it too'),
  'auth.allowPlaintextLoopback': row('auth.allow_plaintext_loopback', flag(false), 'Offer AUTH without TLS to clients connecting from a loopback address'),
  'auth.maxFailures': row('auth.max_failures', integer(1, 1000, 10), 'Failed authentications from one client address before that address is locked out'),
  'auth.lockoutMs': row('auth.lockout', integer(1, DAY, 900, 'seconds'), 'How long a locked-out address is refused AUTH, and how long failures are remembered'),
};

/** The rows of SCHEMA with their Config field paths, in table order. */
export function schemaRows(): readonly (readonly [field: string, setting: Setting<unknown>])[] {
  return Object.entries(SCHEMA) as [string, Setting<unknown>][];
}
