// The Debian package in a fresh Debian 12 root (mmdebstrap --variant=minbase, cached as a tarball
// in the temp dir for the run): lintian finds nothing; dpkg -i creates the user, the directories
// and starts the service through invoke-rc.d; mail from outside the root over 127.0.0.1:25 and
// from /usr/sbin/sendmail inside it (as root and as nobody) lands in Maildir; every mta process
// runs as mta; reload, status, stop leave nothing running; a broken /etc/mta.conf makes start,
// restart and reload fail with its FILE:LINE: line; dpkg --purge removes user and spool.
// The root shares this machine's network: nothing else may listen on port 25 (else the packaged
// config is moved to a free port before start, and the test says so). Needs root; CI runs it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProgram } from '../helpers/peers.js';
import { fileLogLines, procStatus, sendMessage, waitFor } from '../helpers/process.js';
import { freePort, ROOT, waitForGreeting } from '../helpers/server.js';

const isRoot = process.getuid?.() === 0;
// The package is the same whichever binary the e2e suite runs; the MTA_BIN pass skips it.
const shouldRun = isRoot && !process.env['MTA_BIN'] && (Boolean(process.env['CI']) || (findProgram('mmdebstrap') !== undefined && findProgram('dpkg-deb') !== undefined));
const TARBALL = path.join(os.tmpdir(), 'mta-test-bookworm-minbase-ssl-cert.tar');
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

let root = '';
let deb = '';
const mounts: string[] = [];

function run(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(file, args, { encoding: 'utf8', input: options.input, timeout: options.timeoutMs ?? 600_000, env: { PATH, LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.error) throw result.error;
  return result;
}

/** Runs a shell command inside the Debian root; `user` runs it as that user. */
function inRoot(command: string, options: { input?: string; user?: string } = {}): SpawnSyncReturns<string> {
  const userspec = options.user ? [`--userspec=${options.user}`] : [];
  return run('chroot', [...userspec, root, '/bin/sh', '-c', command], options);
}

const output = (r: SpawnSyncReturns<string>) => `${r.stdout}${r.stderr}`;

/** Builds the .deb (and the single executable in it). */
function buildPackage(): string {
  const built = run(process.execPath, [path.join(ROOT, 'scripts/package-deb.mjs')]);
  expect(built.status, output(built)).toBe(0);
  return path.join(ROOT, built.stdout.trim().split('\n').at(-1) as string);
}

/** Makes the Debian root from the cached tarball, making the tarball first if this run has none. */
function makeRoot(): string {
  if (!existsSync(TARBALL)) {
    const made = run('mmdebstrap', ['--variant=minbase', '--format=tar', '--include=adduser,ssl-cert', 'bookworm', `${TARBALL}.part`]);
    expect(made.status, output(made)).toBe(0);
    renameSync(`${TARBALL}.part`, TARBALL);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-chroot-'));
  const unpacked = run('tar', ['-xf', TARBALL, '-C', dir]);
  expect(unpacked.status, output(unpacked)).toBe(0);
  for (const fs of ['proc', 'dev', 'sys']) {
    const target = path.join(dir, fs);
    expect(run('mount', ['--bind', `/${fs}`, target]).status).toBe(0);
    mounts.push(target);
  }
  return dir;
}

/** Allows invoke-rc.d to start mta (and nothing else) in the root; `isAllowed` false forbids it too. */
function policy(isAllowed: boolean): void {
  const file = path.join(root, 'usr/sbin/policy-rc.d');
  writeFileSync(file, `#!/bin/sh\n# $1 is the service, $2 the action; 101 forbids, 0 allows.\n[ "$1" = mta ] && exit ${isAllowed ? 0 : 101}\nexit 101\n`, { mode: 0o755 });
}

/** The pids of the processes whose root directory is the Debian root. */
function processesInRoot(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/root`) === root;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function uidOf(user: string): number {
  const line = readFileSync(path.join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  return Number(line?.split(':')[2]);
}

function makeMailbox(domain: string, user: string): void {
  const made = inRoot(`install -d -o mta -g mta -m 700 /var/mail/vhosts/${domain}/${user}/tmp /var/mail/vhosts/${domain}/${user}/new /var/mail/vhosts/${domain}/${user}/cur`);
  expect(made.status, output(made)).toBe(0);
}

async function inbox(domain: string, user: string): Promise<string> {
  const dir = path.join(root, 'var/mail/vhosts', domain, user, 'new');
  const [name] = await waitFor(`mail for ${user}@${domain}`, () => existsSync(dir) && readdirSync(dir).length > 0 && readdirSync(dir));
  return readFileSync(path.join(dir, name as string), 'utf8');
}

/** Whether something on this machine already listens on port 25. */
async function isPort25Busy(): Promise<boolean> {
  const ss = run('ss', ['-Hltn', 'sport = :25']);
  return ss.stdout.trim() !== '';
}

describe.skipIf(!shouldRun)('Debian package', () => {
  let port = 25;

  beforeAll(() => {
    deb = buildPackage();
    root = makeRoot();
  }, 900_000);

  afterAll(async () => {
    // Processes the test started in the root (the daemon, if a step failed), by pid.
    for (const pid of processesInRoot()) process.kill(pid, 'SIGKILL');
    await waitFor('no process in the Debian root', () => processesInRoot().length === 0);
    for (const target of mounts.reverse()) run('umount', [target]);
    const stillMounted = readFileSync('/proc/mounts', 'utf8').includes(` ${root}/`);
    // Never remove a tree with live mounts in it: it would reach into /proc, /dev and /sys.
    if (root !== '' && !stillMounted) rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it('package passes lintian with no error or warning', () => {
    if (!findProgram('lintian') && !process.env['CI']) return;
    const result = run('lintian', ['--fail-on', 'error,warning', deb]);
    expect(output(result).replace(/^running with root privileges is not recommended!\n/m, '')).toBe('');
    expect(result.status).toBe(0);
  }, 600_000);

  it('package installs, serves, delivers, reloads, stops, refuses a broken config and purges', async () => {
    const isBusy = await isPort25Busy();
    policy(!isBusy);
    copyFileSync(deb, path.join(root, 'tmp/mta.deb'));
    const installed = inRoot('dpkg -i /tmp/mta.deb');
    expect(installed.status, output(installed)).toBe(0);
    expect(readFileSync(path.join(root, 'etc/mta/host.conf'), 'utf8')).toMatch(/\ndomains = \[ "localhost"(, "[a-z0-9.-]+")? \];\n/);
    if (isBusy) {
      port = await freePort();
      console.warn(`port 25 is in use on this machine: the packaged mta is moved to port ${port} for this test`);
      const conf = path.join(root, 'etc/mta.conf');
      writeFileSync(conf, readFileSync(conf, 'utf8').replace('listen = [ "0.0.0.0:25", "[::]:25" ];', `listen = [ "127.0.0.1:${port}", "[::1]:${port}" ];`));
      policy(true);
      const started = inRoot('/etc/init.d/mta start');
      expect(started.status, output(started)).toBe(0);
    }
    await waitForGreeting(port);

    // Mail from outside the root, over the shared loopback.
    makeMailbox('localhost', 'alice');
    expect(await sendMessage(port, 'alice@localhost')).toMatch(/^250 /);
    expect(await inbox('localhost', 'alice')).toContain('Subject: test');

    // Mail from /usr/sbin/sendmail inside it, as root and as an unprivileged user.
    makeMailbox('localhost', 'bob');
    const byRoot = inRoot('/usr/sbin/sendmail -i bob@localhost', { input: 'Subject: from root\n\nhi\n' });
    expect(byRoot.status, output(byRoot)).toBe(0);
    expect(await inbox('localhost', 'bob')).toMatch(/Received: from local user \(uid 0\)[\s\S]*Subject: from root/);
    makeMailbox('localhost', 'carol');
    const byNobody = inRoot('/usr/sbin/sendmail -i carol@localhost', { input: 'Subject: from nobody\n\nhi\n', user: 'nobody:nogroup' });
    expect(byNobody.status, output(byNobody)).toBe(0);
    expect(await inbox('localhost', 'carol')).toMatch(/^Return-Path: <nobody@[^>]+>[\s\S]*Subject: from nobody/);

    // Every process of the daemon runs as mta.
    const mta = uidOf('mta');
    const pids = await waitFor('supervisor and workers', () => {
      const found = processesInRoot();
      return found.length >= 4 && found;
    });
    for (const pid of pids) expect(procStatus(pid)?.get('Uid'), `Uid of ${pid}`).toBe(`${mta}\t${mta}\t${mta}\t${mta}`);
    const mailq = inRoot('mailq');
    expect(mailq.status, output(mailq)).toBe(0);

    const reloaded = inRoot('/etc/init.d/mta reload');
    expect(reloaded.status, output(reloaded)).toBe(0);
    await waitFor('the reload in the log', () => fileLogLines(path.join(root, 'var/log/mta/mta.log')).some((l) => l.msg === 'config reloaded'));
    const status = inRoot('/etc/init.d/mta status');
    expect(status.status, output(status)).toBe(0);
    expect(output(status)).toContain('is running');

    // A broken file: restart and reload refuse it and keep the daemon; start refuses it too.
    const conf = path.join(root, 'etc/mta.conf');
    const good = readFileSync(conf, 'utf8');
    appendFileSync(conf, 'no_such_setting = 1;\n');
    const line = `/etc/mta.conf:${good.split('\n').length}: unknown setting "no_such_setting"`;
    for (const action of ['restart', 'reload']) {
      const refused = inRoot(`/etc/init.d/mta ${action}`);
      expect(refused.status, output(refused)).toBe(6);
      expect(output(refused)).toContain(line);
    }
    expect(inRoot('/etc/init.d/mta status').status).toBe(0);

    const stopped = inRoot('/etc/init.d/mta stop');
    expect(stopped.status, output(stopped)).toBe(0);
    await waitFor('no mta process left', () => processesInRoot().length === 0);
    expect(inRoot('/etc/init.d/mta status').status).toBe(3);
    const refused = inRoot('/etc/init.d/mta start');
    expect(refused.status, output(refused)).toBe(6);
    expect(output(refused)).toContain(line);
    expect(processesInRoot()).toEqual([]);
    writeFileSync(conf, good);

    const purged = inRoot('dpkg --purge mta');
    expect(purged.status, output(purged)).toBe(0);
    for (const gone of ['etc/mta.conf', 'etc/mta/host.conf', 'var/spool/mta', 'var/log/mta', 'usr/sbin/mta']) expect(existsSync(path.join(root, gone)), gone).toBe(false);
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).not.toMatch(/^mta:/m);
    // The mailboxes hold mail: they stay, and /var/mail keeps the base system's owner and mode.
    expect(existsSync(path.join(root, 'var/mail/vhosts/localhost/alice/new'))).toBe(true);
    expect(inRoot('stat -c %U:%G:%a /var/mail').stdout.trim()).toBe('root:mail:2775');
  }, 600_000);
});
