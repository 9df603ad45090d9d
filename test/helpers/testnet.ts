// A test net for the relay: network namespaces, each one host joined to the root namespace by a
// veth pair (10.77.N.2 and fd77:N::2 inside, .1 and ::1 on the root side), and real Postfix
// instances inside them as the MX hosts of test domains. Needs root, iproute2 and Postfix.
// Hosts reach only the root namespace (no routing between them), and there is no DNS here:
// tests serve the records from test/helpers/dns-server.ts.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findProgram } from './peers.js';
import { waitFor } from './process.js';

const POSTFIX = '/usr/sbin/postfix';
/** virtual(8) writes mailboxes as nobody:nogroup (Debian's ids); the tests read them as root. */
const MAILBOX_ID = 65534;

/** Why the test net cannot be built here (not root, a program missing), or undefined when it can. */
export function testNetProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test net needs root (network namespaces, Postfix on port 25)';
  for (const [program, pkg] of [['ip', 'iproute2'], [POSTFIX, 'postfix'], ['openssl', 'openssl']] as const) {
    if (!findProgram(program)) return `peer "${program}" is not installed (install ${pkg})`;
  }
  return undefined;
}

/** Runs a program to its end; rejects with its stderr on a non-zero exit or after the time limit. */
function run(file: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`Cannot run "${file} ${args.join(' ')}": ${err.message.trim()}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One host of the test net: a namespace and its addresses. */
export interface TestHost {
  readonly name: string;
  readonly netns: string;
  /** The host's own addresses (inside its namespace). */
  readonly ipv4: string | undefined;
  readonly ipv6: string | undefined;
  /** The root namespace's addresses on this host's link: where mta's connections come from. */
  readonly peerIpv4: string | undefined;
  readonly peerIpv6: string | undefined;
  /** The veth end in the root namespace. */
  readonly link: string;
}

/** Which address families a host gets. @default { ipv4: true, ipv6: false } */
export interface HostOptions {
  readonly ipv4?: boolean;
  readonly ipv6?: boolean;
}

/** The hosts of one test run; names carry the pid, so leftovers of a crashed run never collide. */
export class TestNet {
  private readonly hosts: TestHost[] = [];
  private readonly postfixes: Postfix[] = [];
  private readonly taken = subnetsInUse();
  private nextSubnet = (process.pid % 200) + 1;

  /** Creates a namespace joined to the root namespace by a veth pair, with lo up. */
  async addHost(name: string, options: HostOptions = {}): Promise<TestHost> {
    const { ipv4 = true, ipv6 = false } = options;
    const n = this.allocateSubnet();
    const index = this.hosts.length;
    const host: TestHost = {
      name,
      netns: `mta-${process.pid}-${name}`,
      ipv4: ipv4 ? `10.77.${n}.2` : undefined,
      ipv6: ipv6 ? `fd77:${n}::2` : undefined,
      peerIpv4: ipv4 ? `10.77.${n}.1` : undefined,
      peerIpv6: ipv6 ? `fd77:${n}::1` : undefined,
      link: `m${process.pid}-${index}`,
    };
    // Registered before the first command, so that a half-built host is torn down too.
    this.hosts.push(host);
    const inside = `${host.link}n`;
    await run('ip', ['netns', 'add', host.netns]);
    await run('ip', ['link', 'add', host.link, 'type', 'veth', 'peer', 'name', inside, 'netns', host.netns]);
    if (ipv4) {
      await run('ip', ['addr', 'add', `${host.peerIpv4}/24`, 'dev', host.link]);
      await run('ip', ['-n', host.netns, 'addr', 'add', `${host.ipv4}/24`, 'dev', inside]);
    }
    if (ipv6) {
      // nodad: usable at once, without waiting for duplicate address detection.
      await run('ip', ['-6', 'addr', 'add', `${host.peerIpv6}/64`, 'dev', host.link, 'nodad']);
      await run('ip', ['-n', host.netns, '-6', 'addr', 'add', `${host.ipv6}/64`, 'dev', inside, 'nodad']);
    }
    await run('ip', ['link', 'set', host.link, 'up']);
    await run('ip', ['-n', host.netns, 'link', 'set', inside, 'up']);
    await run('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up']);
    return host;
  }

  /** Writes a Postfix config for `host` into a fresh temp dir and starts it there as an MX. */
  async startPostfix(host: TestHost, options: PostfixOptions): Promise<Postfix> {
    const postfix = new Postfix(host, options);
    this.postfixes.push(postfix);
    await postfix.start();
    return postfix;
  }

  /**
   * Stops every Postfix (by `postfix stop`, then its master's pid if it lingers) and deletes every
   * namespace and veth pair; Postfix dirs are removed unless `keep` (then their paths are printed).
   */
  async destroy(keep = false): Promise<void> {
    await Promise.all(this.postfixes.map((p) => p.kill()));
    await Promise.all(
      this.hosts.map(async (host) => {
        await run('ip', ['netns', 'del', host.netns]).catch(() => undefined);
        // Gone with its namespace's end already, unless a process still holds the namespace.
        await run('ip', ['link', 'del', host.link]).catch(() => undefined);
      }),
    );
    for (const p of this.postfixes) {
      if (keep) process.stdout.write(`test net: kept Postfix dir ${p.dir}\n`);
      else rmSync(p.dir, { recursive: true, force: true });
    }
  }

  /** Picks the next /24 (and /64) that no interface of the root namespace uses. */
  private allocateSubnet(): number {
    for (let tries = 0; tries < 254; tries++) {
      const n = this.nextSubnet;
      this.nextSubnet = (n % 254) + 1;
      if (!this.taken.has(n)) {
        this.taken.add(n);
        return n;
      }
    }
    throw new Error('Cannot find a free subnet in 10.77.0.0/16: every 10.77.N.0/24 is in use');
  }
}

/** The N of every 10.77.N.x and fd77:N:: address on the root namespace's interfaces (a crashed run's). */
function subnetsInUse(): Set<number> {
  const text = execFileSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' });
  const used = new Set<number>();
  for (const m of text.matchAll(/\b10\.77\.(\d+)\./g)) used.add(Number(m[1]));
  // fd77:N:: is written with N's decimal digits, so read them back the same way.
  for (const m of text.matchAll(/\bfd77:(\d+)::/g)) used.add(Number(m[1]));
  return used;
}

/** How a test Postfix is set up. */
export interface PostfixOptions {
  /** Addresses with a mailbox; their domains are its virtual mailbox domains. Others get 550 5.1.1. */
  readonly mailboxes: readonly string[];
  /** More main.cf settings, written after (and so overriding) the generated ones. @default {} */
  readonly settings?: Readonly<Record<string, string>>;
  /** Files written into the config dir before start, by name (access maps, certificates). @default {} */
  readonly files?: Readonly<Record<string, string>>;
}

/** One line of a Postfix log. */
export interface PostfixLogLine {
  /** Seconds since the epoch; Postfix logs whole seconds in local time, without a year. */
  readonly atS: number;
  /** e.g. `postfix/smtpd`. */
  readonly program: string;
  readonly pid: number;
  readonly text: string;
}

/** One SMTP session as smtpd logged it. */
export interface PostfixSession {
  readonly client: string;
  readonly connect: PostfixLogLine;
  readonly disconnect: PostfixLogLine | undefined;
}

/** A Postfix running as MX inside one namespace, with its own config, queue, Maildirs and log. */
export class Postfix {
  readonly dir: string;
  readonly configDir: string;
  readonly queueDir: string;
  readonly mailDir: string;
  readonly logFile: string;
  private settings: Readonly<Record<string, string>>;
  private isChecked = false;

  constructor(
    readonly host: TestHost,
    private readonly options: PostfixOptions,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `mta-postfix-${host.name}-`));
    this.configDir = path.join(this.dir, 'etc');
    this.queueDir = path.join(this.dir, 'queue');
    this.mailDir = path.join(this.dir, 'mail');
    this.logFile = path.join(this.dir, 'maillog');
    this.settings = options.settings ?? {};
  }

  /** The addresses smtpd listens on, IPv6 in brackets. */
  get listenAddresses(): string[] {
    return [this.host.ipv4, this.host.ipv6 && `[${this.host.ipv6}]`].filter((a): a is string => a !== undefined);
  }

  /**
   * Writes the config, checks it (`postfix check`, which also creates the queue directories) and
   * starts Postfix (`postfix start`); resolves once it greets. `postfix start` would run the same
   * checks again (two seconds of postconf runs each time): the `quick-start` file in the queue
   * directory, Postfix's own way to skip them once, tells it they were just made.
   */
  async start(): Promise<void> {
    this.writeConfig();
    if (!this.isChecked) await this.postfix('check');
    this.isChecked = true;
    writeFileSync(path.join(this.queueDir, 'quick-start'), '');
    // `postfix start` returns once the master daemon has initialized (master -w).
    await this.postfix('start');
    const before = this.sessions().length;
    await greeted(this.host.ipv4 ?? this.host.ipv6 ?? '');
    // The probe's own session, once logged whole, leaves a settled log for the tests.
    await waitFor(`the readiness probe in ${this.logFile}`, () => this.sessions().length > before && this.sessions().every((s) => s.disconnect));
  }

  /** Stops Postfix (`postfix stop` waits for its master to exit). */
  async stop(): Promise<void> {
    await this.postfix('stop');
  }

  /** Replaces the extra main.cf settings and reloads; sessions already open keep the old ones. */
  async reconfigure(settings: Readonly<Record<string, string>>): Promise<void> {
    this.settings = settings;
    this.writeConfig();
    await this.postfix('reload');
  }

  /** Rewrites one file of the config dir (e.g. an access map) and reloads. */
  async rewriteFile(name: string, text: string): Promise<void> {
    writeFileSync(path.join(this.configDir, name), text);
    await this.postfix('reload');
  }

  /** Stops Postfix if it runs; its master is SIGKILLed by pid if `postfix stop` cannot end it. */
  async kill(): Promise<void> {
    const pid = this.masterPid();
    if (pid === undefined) return;
    await this.postfix('stop').catch(() => undefined);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  /** The `new/` folder of an address's Maildir (virtual(8) creates it on first delivery). */
  newDir(address: string): string {
    const [local = '', domain = ''] = address.toLowerCase().split('@');
    return path.join(this.mailDir, domain, local, 'new');
  }

  /** The paths of the messages delivered to an address, oldest name first. */
  messages(address: string): string[] {
    const dir = this.newDir(address);
    return existsSync(dir) ? readdirSync(dir).sort().map((f) => path.join(dir, f)) : [];
  }

  /** The log as text; empty before the first line. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** The log's lines, from line `from` on. */
  logLines(from = 0): PostfixLogLine[] {
    return this.log().split('\n').slice(from).flatMap(parseLogLine);
  }

  /** A mark for `sessions`: the number of lines logged so far. */
  mark(): number {
    return this.log().split('\n').length - 1;
  }

  /** The smtpd sessions logged from line `from` on, each with its connect and (once ended) disconnect. */
  sessions(from = 0): PostfixSession[] {
    const open = new Map<number, PostfixSession>();
    const all: PostfixSession[] = [];
    for (const line of this.logLines(from)) {
      if (line.program !== 'postfix/smtpd') continue;
      const connect = /^connect from [^[]*\[([^\]]+)\]/.exec(line.text);
      if (connect) {
        const session = { client: connect[1] ?? '', connect: line, disconnect: undefined };
        open.set(line.pid, session);
        all.push(session);
      } else if (line.text.startsWith('disconnect from ')) {
        const session = open.get(line.pid);
        if (session) all[all.indexOf(session)] = { ...session, disconnect: line };
        open.delete(line.pid);
      }
    }
    return all;
  }

  /** Waits until every session logged so far has ended; returns a mark for the next ones. */
  async settle(): Promise<number> {
    return waitFor(`the open sessions of ${this.host.name} to end`, () => this.sessions().every((s) => s.disconnect) && this.mark());
  }

  /** Tells whether Postfix's queue holds no message (everything it accepted is delivered). */
  isQueueEmpty(): boolean {
    return ['incoming', 'active', 'deferred', 'hold', 'maildrop'].every((folder) => countFiles(path.join(this.queueDir, folder)) === 0);
  }

  private postfix(command: string): Promise<string> {
    return run('ip', ['netns', 'exec', this.host.netns, POSTFIX, '-c', this.configDir, command]).catch((err: Error) => {
      throw new Error(`${err.message}\nPostfix log (${this.logFile}):\n${this.log().split('\n').slice(-15).join('\n')}`);
    });
  }

  private masterPid(): number | undefined {
    const file = path.join(this.queueDir, 'pid', 'master.pid');
    const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  }

  private writeConfig(): void {
    for (const d of [this.configDir, this.queueDir, path.join(this.dir, 'data'), this.mailDir]) mkdirSync(d, { recursive: true });
    execFileSync('chmod', ['755', this.dir]);
    // Postfix's master locks a file in data_directory as the mail owner; virtual(8) writes as nobody.
    const owner = execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim();
    const group = execFileSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).trim();
    chownSync(path.join(this.dir, 'data'), Number(owner), Number(group));
    chownSync(this.mailDir, MAILBOX_ID, MAILBOX_ID);
    for (const [name, text] of Object.entries(this.options.files ?? {})) writeFileSync(path.join(this.configDir, name), text);
    const domains = [...new Set(this.options.mailboxes.map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase()))];
    writeFileSync(path.join(this.configDir, 'mailboxes'), this.options.mailboxes.map((a) => `${a} ${this.mailboxPath(a)}\n`).join(''));
    const settings: Record<string, string> = {
      compatibility_level: '3.6',
      queue_directory: this.queueDir,
      data_directory: path.join(this.dir, 'data'),
      myhostname: `mx.${domains[0] ?? 'test'}`,
      mydestination: '',
      mynetworks: '127.0.0.0/8',
      inet_interfaces: this.listenAddresses.join(', '),
      inet_protocols: this.host.ipv4 && this.host.ipv6 ? 'all' : this.host.ipv4 ? 'ipv4' : 'ipv6',
      // No DNS from Postfix: the client's name is never looked up, and nothing is ever relayed on.
      smtpd_peername_lookup: 'no',
      default_transport: 'error:the test net relays nothing',
      relay_transport: 'error:the test net relays nothing',
      maillog_file: this.logFile,
      maillog_file_prefixes: this.dir,
      virtual_mailbox_domains: domains.join(', '),
      virtual_mailbox_base: this.mailDir,
      virtual_mailbox_maps: `texthash:${path.join(this.configDir, 'mailboxes')}`,
      virtual_uid_maps: `static:${MAILBOX_ID}`,
      virtual_gid_maps: `static:${MAILBOX_ID}`,
      alias_maps: '',
      alias_database: '',
      biff: 'no',
      smtpd_tls_loglevel: '1',
      ...this.settings,
    };
    writeFileSync(path.join(this.configDir, 'main.cf'), Object.entries(settings).map(([k, v]) => `${k} = ${v}\n`).join(''));
    writeFileSync(path.join(this.configDir, 'master.cf'), MASTER_CF);
  }

  /** The Maildir of an address relative to virtual_mailbox_base; the final slash means Maildir. */
  private mailboxPath(address: string): string {
    const [local = '', domain = ''] = address.toLowerCase().split('@');
    return `${domain}/${local}/`;
  }
}

// Only the services an MX needs, none chrooted (the temp dirs hold no copy of /etc).
const MASTER_CF = `smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses `Nov 30 15:04:12 host postfix/smtpd[32626]: text`; other lines give nothing. */
function parseLogLine(line: string): PostfixLogLine[] {
  const m = /^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) \S+ ([^[\s]+)\[(\d+)\]: (.*)$/.exec(line);
  if (!m) return [];
  const now = new Date();
  const at = (year: number) => new Date(year, MONTHS.indexOf(m[1] ?? ''), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  // No year in the line: a date ahead of now was logged last year (a run across New Year).
  let date = at(now.getFullYear());
  if (date.getTime() > now.getTime() + 86_400_000) date = at(now.getFullYear() - 1);
  return [{ atS: date.getTime() / 1000, program: m[6] ?? '', pid: Number(m[7]), text: m[8] ?? '' }];
}

/** Retries connecting to port 25 until a 220 greeting comes (then QUIT), or the deadline passes. */
async function greeted(address: string, deadlineMs = 20_000): Promise<void> {
  await waitFor(
    `the greeting of Postfix on ${address}:25`,
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: address, port: 25 });
        const done = (ok: boolean) => {
          clearTimeout(timer);
          if (ok) s.end('QUIT\r\n');
          else s.destroy();
          resolve(ok);
        };
        const timer = setTimeout(() => done(false), 2000);
        s.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('220')));
        s.on('error', () => done(false));
      }),
    deadlineMs,
  );
}

function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1), 0);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
