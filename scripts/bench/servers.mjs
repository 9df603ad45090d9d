// The two servers the bench compares, each an instance of its own under a temp dir, on loopback:
// mta (the single executable dist/mta) and Postfix (`postfix -c DIR start`, delivering with
// virtual(8) into Maildir). Both offer the same small interface to the rows: a port, the pid of
// the root of their process tree, where a mailbox's new/ is, queue counts, flush and stop.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { countCommand } from './proc.mjs';
import { clearTimeout, setTimeout } from 'node:timers';

/** The local domain both servers deliver into Maildir; relay mail goes to RELAY_DOMAIN. */
export const BENCH_DOMAIN = 'bench.test';
export const RELAY_DOMAIN = 'relay.test';
/** Mailboxes b0 .. b(MAILBOXES - 1) exist for Postfix (virtual(8) needs them listed); each run takes a new one. */
const MAILBOXES = 5000;
/** The unprivileged user both servers deliver as (and mta runs as). */
const SERVICE_USER = { name: 'nobody', group: 'nogroup', uid: 65534, gid: 65534 };
/** Room for the 200 MB message row and its headers, in both servers. */
const MAX_MESSAGE_BYTES = 300 * 1024 * 1024;

/** Finds a TCP port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Retries connecting until a connection is greeted with 220 or `deadlineMs` passes. */
export async function waitForGreeting(port, deadlineMs = 30_000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const greeted = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const done = (ok) => {
        clearTimeout(timer);
        s.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), 1000);
      s.once('data', (b) => done(b.toString('latin1').startsWith('220')));
      s.on('error', () => done(false));
    });
    if (greeted) return;
    if (Date.now() > until) throw new Error(`no 220 greeting on 127.0.0.1:${port} in time`);
    await sleep(50); // a pause between polls, not a guess at readiness
  }
}

/** Resolves after `ms`; only ever a pause between two polls of a condition. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every `everyMs` until it returns a truthy value or `deadlineMs` passes (then throws `what`). */
export async function waitUntil(what, condition, deadlineMs, everyMs = 20) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Counts the files in `dir`, 0 when it does not exist yet. */
export function countFiles(dir) {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

function countFilesDeep(dir) {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFilesDeep(path.join(dir, e.name)) : 1;
  } catch {
    // not there yet
  }
  return n;
}

function ownedDir(dir, owner = SERVICE_USER) {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chownSync(dir, owner.uid, owner.gid);
  return dir;
}

let nextMailbox = 0;
/** Returns a mailbox name never used before in this bench run. */
export function newMailbox() {
  if (nextMailbox >= MAILBOXES) throw new RangeError(`More than ${MAILBOXES} mailboxes used`);
  return `b${nextMailbox++}`;
}

/**
 * Starts mta from the single executable `bin` with a config under `dir`: loopback port, the bench
 * domain local with create_mailboxes, reverse_dns off, DNS sent to a loopback port where nothing
 * answers, log level info into a file, relay for RELAY_DOMAIN to 127.0.0.1:`relayPort`.
 * `binArgs` go before ours (the bundle's path when `bin` is node); `env` is added to ours.
 */
export async function startMta({ bin, binArgs = [], dir, relayPort, env = {} }) {
  const port = await freePort();
  ownedDir(dir);
  const configPath = path.join(dir, 'mta.conf');
  writeFileSync(
    configPath,
    `# Written by scripts/bench: mta's side of npm run bench.
hostname = "mta.${BENCH_DOMAIN}";
domains = [ "${BENCH_DOMAIN}" ];
user = "${SERVICE_USER.name}"; group = "${SERVICE_USER.group}";
log = { file = "${ownedDir(path.join(dir, 'log'))}/mta.log"; level = "info"; };
dns = { servers = [ "127.0.0.1:1" ]; timeout = 1; };
server = {
  listen = [ "127.0.0.1:${port}" ];
  reverse_dns = "off";
  max_connections = 20000;
  max_connections_per_ip = 20000;
  max_connection_rate = 0;
  max_message_size = ${MAX_MESSAGE_BYTES};
};
maildir = { root = "${ownedDir(path.join(dir, 'mail'))}"; create_mailboxes = true; };
queue = { root = "${ownedDir(path.join(dir, 'queue'))}"; };
relay = { transports = [ "${RELAY_DOMAIN} [127.0.0.1]:${relayPort}" ]; tls = "none"; retry_min_interval = 3600; };
`,
  );
  const child = spawn(bin, [...binArgs, '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  await Promise.race([
    waitForGreeting(port),
    exited.then((c) => {
      throw new Error(`mta exited (${c}) before greeting:\n${output}`);
    }),
  ]);
  return {
    name: 'mta',
    port,
    relayPort,
    dir,
    configPath,
    rootPid: () => child.pid,
    newDir: (box) => path.join(dir, 'mail', BENCH_DOMAIN, box, 'new'),
    mailboxDir: (box) => path.join(dir, 'mail', BENCH_DOMAIN, box),
    queued: (state) => countFiles(path.join(dir, 'queue', state)),
    /** Messages not yet delivered or bounced, in any live state. */
    pending: () => ['incoming', 'deferred', 'bounce'].reduce((n, s) => n + countFiles(path.join(dir, 'queue', s)), 0),
    deferred: () => countFiles(path.join(dir, 'queue', 'deferred')),
    flush: () => execFileSync(bin, [...binArgs, 'queue', 'flush', '-f', configPath], { stdio: 'pipe', timeout: 30_000 }),
    output: () => output,
    /** Whether every SMTP worker running has delivered a message (read from the log). */
    allWorkersServed() {
      const lines = readFileSync(path.join(dir, 'log', 'mta.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const workers = lines.filter((l) => l.pid === child.pid && l.role === 'smtp' && l.msg === 'worker started').map((l) => l.worker);
      const served = new Set(lines.filter((l) => l.msg === 'delivered to maildir').map((l) => l.pid));
      return workers.every((pid) => served.has(pid));
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(60_000).then(() => 'timeout')]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
      return code;
    },
  };
}

/** Returns Postfix's version (mail_version), or 'unknown'. */
export function postfixVersion() {
  try {
    return execFileSync('/usr/sbin/postconf', ['-d', '-h', 'mail_version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Writes main.cf and master.cf for a Postfix instance of its own under `dir`: smtpd on
 * 127.0.0.1 only, virtual(8) delivery into Maildir for the bench domain (mailboxes listed in a
 * texthash map, static uid/gid of nobody), relayhost = the bench's smtp-sink, no chroot, logging
 * through postlogd into a file, every durability setting at its default.
 */
function writePostfixConfig(dir, port, relayPort) {
  const conf = path.join(dir, 'conf');
  mkdirSync(conf, { recursive: true, mode: 0o755 });
  const boxes = Array.from({ length: MAILBOXES }, (_, i) => `b${i}@${BENCH_DOMAIN} ${BENCH_DOMAIN}/b${i}/\n`);
  writeFileSync(path.join(conf, 'vmailbox'), boxes.join(''));
  const postfixUser = execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim();
  ownedDir(path.join(dir, 'data'), { uid: Number(postfixUser), gid: 0 });
  mkdirSync(path.join(dir, 'queue'), { mode: 0o755 }); // postfix check creates what is inside
  writeFileSync(
    path.join(conf, 'main.cf'),
    `# Written by scripts/bench: Postfix's side of npm run bench. Durability settings are defaults.
compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.${BENCH_DOMAIN}
mydomain = ${BENCH_DOMAIN}
myorigin = pf.${BENCH_DOMAIN}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no
alias_maps =
alias_database =
virtual_mailbox_domains = ${BENCH_DOMAIN}
virtual_mailbox_base = ${ownedDir(path.join(dir, 'mail'))}
virtual_mailbox_maps = texthash:${conf}/vmailbox
virtual_uid_maps = static:${SERVICE_USER.uid}
virtual_gid_maps = static:${SERVICE_USER.gid}
virtual_mailbox_limit = 0
mailbox_size_limit = 0
message_size_limit = ${MAX_MESSAGE_BYTES}
relayhost = [127.0.0.1]:${relayPort}
maillog_file = ${dir}/maillog
maillog_file_prefixes = ${dir}
`,
  );
  // Debian's master.cf without chroot (the queue is in a temp dir) and without the pipe
  // transports; smtpd's process limit is raised for the idle-session row (one smtpd per session).
  const services = [
    `127.0.0.1:${port} inet n - n - ${POSTFIX_SMTPD_LIMIT} smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'local unix - n n - - local',
    'virtual unix - n n - - virtual',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  writeFileSync(path.join(conf, 'master.cf'), `${services.join('\n')}\n`);
  return conf;
}

/** The most smtpd processes (so sessions) the Postfix instance runs at once. */
export const POSTFIX_SMTPD_LIMIT = 1100;

/** Starts a Postfix instance of its own under `dir` (postfix -c DIR start) and waits for its greeting. */
export async function startPostfix({ dir, relayPort }) {
  const port = await freePort();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const conf = writePostfixConfig(dir, port, relayPort);
  const postfix = (...args) => execFileSync('/usr/sbin/postfix', ['-c', conf, ...args], { stdio: 'pipe', timeout: 60_000 });
  try {
    postfix('check');
    postfix('start');
  } catch (err) {
    const log = existsSync(path.join(dir, 'maillog')) ? readFileSync(path.join(dir, 'maillog'), 'utf8') : '(no maillog)';
    throw new Error(`postfix -c ${conf} start failed: ${err.stderr ?? err.message}\n${log.slice(-2000)}`);
  }
  await waitForGreeting(port);
  const masterPid = Number(readFileSync(path.join(dir, 'queue', 'pid', 'master.pid'), 'latin1').trim());
  const queueDir = (state) => path.join(dir, 'queue', state);
  return {
    name: 'Postfix',
    port,
    relayPort,
    dir,
    configPath: conf,
    rootPid: () => masterPid,
    newDir: (box) => path.join(dir, 'mail', BENCH_DOMAIN, box, 'new'),
    mailboxDir: (box) => path.join(dir, 'mail', BENCH_DOMAIN, box),
    pending: () => ['incoming', 'active', 'deferred', 'maildrop'].reduce((n, s) => n + countFilesDeep(queueDir(s)), 0),
    deferred: () => countFilesDeep(queueDir('deferred')),
    flush: () => execFileSync('/usr/sbin/postqueue', ['-c', conf, '-f'], { stdio: 'pipe', timeout: 30_000 }),
    /**
     * Ends the smtpd processes that wait for a next session (Postfix keeps them up to max_idle,
     * 100 s, and reuses them), so a memory baseline holds none: `postfix reload` makes every
     * daemon exit at its earliest convenience, and the master starts fresh ones on demand.
     */
    async settleIdle() {
      postfix('reload');
      await waitUntil('idle smtpd processes to exit', () => countCommand(masterPid, 'smtpd') === 0, 60_000, 100);
    },
    output: () => (existsSync(path.join(dir, 'maillog')) ? readFileSync(path.join(dir, 'maillog'), 'utf8').slice(-4000) : ''),
    async stop() {
      try {
        postfix('stop');
      } catch (err) {
        return `postfix stop failed: ${err.stderr ?? err.message}`;
      }
      await waitUntil('the Postfix master to exit', () => !existsSync(`/proc/${masterPid}`), 60_000, 100);
      return 0;
    },
  };
}

/** Removes a mailbox after its run, so the disk does not fill over the rows. */
export function removeMailbox(server, box) {
  rmSync(server.mailboxDir(box), { recursive: true, force: true });
}
