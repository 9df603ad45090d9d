// The validated, typed configuration that cli/ maps onto each module's options.
// Produced by config/ from a libconfig tree; frozen; every field has a default (see defaults.ts).
// Durations are stored in milliseconds (the config file says seconds), sizes in bytes.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type ReverseDnsPolicy = 'off' | 'log' | 'require';
export type BareLinefeedPolicy = 'reject' | 'normalize';
/** How VRFY is answered: 502 5.5.1, or 252 2.5.0 (RFC 5321 7.3). */
export type VrfyPolicy = 'error' | '252';

/**
 * What a listener serves: MX service with optional STARTTLS (`smtp`), message submission with
 * STARTTLS and AUTH required (`submission`, RFC 6409), or submission over implicit TLS
 * (`submissions`, RFC 8314).
 */
export type ListenMode = 'smtp' | 'submission' | 'submissions';

/** One address to listen on, from `"0.0.0.0:25"`, `"[::1]:2525"` or `"0.0.0.0:587/submission"`. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** @default 'smtp' */
  readonly mode: ListenMode;
  /** The string as written in the config, for messages. */
  readonly text: string;
}

export interface ServerTimeouts {
  /** Waiting for a command line (RFC 5321 4.5.3.2.7: 5 min). @default 300000 */
  readonly commandMs: number;
  /** Waiting for each block of DATA (4.5.3.2.6: 3 min). @default 180000 */
  readonly dataBlockMs: number;
  /** Waiting for the reply to the final dot to be possible, i.e. storing the message (10 min). @default 600000 */
  readonly dataEndMs: number;
  /** Cap on a whole session. @default 3600000 */
  readonly sessionMs: number;
  /** The TLS handshake after STARTTLS, or at connect on a `submissions` listener. @default 60000 */
  readonly tlsHandshakeMs: number;
}

export interface ServerConfig {
  readonly listen: readonly ListenAddress[];
  readonly workers: number;
  /** CIDR strings, IPv4 and IPv6, allowed to relay to non-local domains. */
  readonly relayNetworks: readonly string[];
  readonly reverseDns: ReverseDnsPolicy;
  /** DNS blocklist zones, lower-cased. */
  readonly dnsbl: readonly string[];
  /** When a refused client (reverse DNS, DNSBL) is told. @default 'rcpt' */
  readonly rejectClientAt: 'rcpt' | 'connect';
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** New connections per client address per minute; 0 means no limit; relay_networks are exempt. @default 600 */
  readonly maxConnectionRate: number;
  /** MAIL commands per client address per minute, across all workers; 0 means no limit. @default 0 */
  readonly maxMessageRate: number;
  /** Slowest average DATA/BDAT rate in bytes per second (Postfix's smtpd_min_data_rate); 0 is off. @default 256 */
  readonly minDataRate: number;
  /** Wait before the greeting, to catch clients that talk first (postscreen's pregreet test). @default 0 */
  readonly greetingDelayMs: number;
  /** Client errors tolerated before `421` and close (docs/configuration.md lists what counts). @default 20 */
  readonly maxErrors: number;
  /** Client errors after which every reply is delayed by a second. @default 10 */
  readonly softErrorLimit: number;
  /** HELO, EHLO, RSET, NOOP, HELP, VRFY and EXPN commands allowed before each further one counts as an error. @default 100 */
  readonly maxJunkCommands: number;
  /** @default 'error' */
  readonly vrfy: VrfyPolicy;
  readonly bareLinefeed: BareLinefeedPolicy;
  readonly timeouts: ServerTimeouts;
}

export interface MaildirConfig {
  readonly root: string;
  /** Create the mailbox of an unknown local user on first delivery; if false, RCPT gets 550 5.1.1. */
  readonly createMailboxes: boolean;
  /** The aliases file (/etc/aliases format); '' means no aliases. @default '' */
  readonly aliasesFile: string;
  /** `+` makes `user+tag@` deliver to `user`; '' turns it off. */
  readonly recipientDelimiter: string;
}

export interface QueueConfig {
  readonly root: string;
}

/** A fixed next hop of the relay: a host name or an IP address, and a port. */
export interface NextHop {
  readonly host: string;
  readonly port: number;
}

export interface RelayConfig {
  readonly workers: number;
  readonly maxQueueLifetimeMs: number;
  readonly retryMinIntervalMs: number;
  readonly retryMaxIntervalMs: number;
  /** The host all remote mail goes through, or null for MX delivery. */
  readonly smarthost: string | null;
  readonly transports: readonly { readonly domain: string; readonly nextHop: NextHop }[];
  /** Port of MX hosts. @default 25 */
  readonly port: number;
  readonly tls: 'none' | 'may' | 'encrypt' | 'verify';
  /** Outbound connections at once, across all relay workers (each worker gets its share). @default 100 */
  readonly maxConnections: number;
  readonly maxMessagesPerSession: number;
  /** @default 30000 */
  readonly connectTimeoutMs: number;
  /** Greeting and each command's reply (RFC 5321 4.5.3.2: 5 minutes). @default 300000 */
  readonly commandTimeoutMs: number;
  /** Reply to the final dot (RFC 5321 4.5.3.2.6: 10 minutes). @default 600000 */
  readonly dataEndTimeoutMs: number;
}

export interface DnsConfig {
  /** Resolver addresses (`"127.0.0.1"`, `"[::1]:5353"`); empty means /etc/resolv.conf. */
  readonly servers: readonly string[];
  readonly timeoutMs: number;
}

export interface TlsConfig {
  /** PEM file with the server certificate (and its chain); null: no STARTTLS, no `submissions`. */
  readonly certificate: string | null;
  /** PEM file with the certificate's private key; read as root before the privilege drop. */
  readonly key: string | null;
  /** PEM files each holding a certificate chain and its key, chosen by SNI name. */
  readonly sniCertificates: readonly string[];
}

export interface AuthConfig {
  /** The SQLite database of users (`mta user`), shared with Dovecot's passdb. */
  readonly database: string;
  /** Offer AUTH without TLS to clients on loopback addresses. @default false */
  readonly allowPlaintextLoopback: boolean;
  /** Failed AUTHs from one client address before it is locked out. @default 10 */
  readonly maxFailures: number;
  /** How long a locked-out address is refused, and how long failures are remembered. @default 900000 */
  readonly lockoutMs: number;
}

export interface LogConfig {
  /** Log file path; null means stderr. */
  readonly file: string | null;
  readonly level: LogLevel;
}

export interface Config {
  readonly hostname: string;
  /** Local domains, lower-cased. */
  readonly domains: readonly string[];
  /** Service user and group to drop to when started as root; null when not set. */
  readonly user: string | null;
  readonly group: string | null;
  readonly pidFile: string | null;
  readonly shutdownTimeoutMs: number;
  readonly log: LogConfig;
  readonly server: ServerConfig;
  readonly maildir: MaildirConfig;
  readonly queue: QueueConfig;
  readonly relay: RelayConfig;
  readonly dns: DnsConfig;
  readonly tls: TlsConfig;
  readonly auth: AuthConfig;
}
