// The single executable (dist/mta, from `npm run build:sea`; `npm test` builds it) copied out of
// the repository and run with an empty environment: no node_modules, no Node of the project on
// PATH. Supervisor, workers, the log file, reload, the queue command and sendmail/mailq through
// links all work from the one binary, and it names the Node version built into it.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fileLogLines, processTree, sendMessage, waitFor } from '../helpers/process.js';
import { freePort, ROOT, RUN_AS, waitForPort } from '../helpers/server.js';

const SEA = path.join(ROOT, 'dist/mta');
const ENV = { PATH: '/usr/bin:/bin' };
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const run = promisify(execFile);

/** Copies the binary into a fresh directory outside the repository, with its links. */
function install(): { dir: string; bin: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-sea-'));
  chmodSync(dir, 0o755);
  const bin = path.join(dir, 'mta');
  copyFileSync(SEA, bin);
  chmodSync(bin, 0o755);
  for (const name of ['sendmail', 'mailq', 'newaliases']) symlinkSync('mta', path.join(dir, name));
  return { dir, bin };
}

function writeConfig(dir: string, port: number): string {
  const file = path.join(dir, 'mta.conf');
  writeFileSync(
    file,
    `hostname = "mx.test";
domains = [ "example.org" ];
${RUN_AS}
log = { file = "${dir}/log/mta.log"; level = "debug"; };
server = { listen = [ "127.0.0.1:${port}", "[::1]:${port}" ]; reverse_dns = "off"; workers = 2; };
maildir = { root = "${dir}/mail"; create_mailboxes = true; };
queue = { root = "${dir}/queue"; };
dns = { servers = [ "127.0.0.1:1" ]; timeout = 1; };
`,
  );
  return file;
}

// CI always builds it (npm test); a local run of this file alone skips it until `npm run build:sea`.
describe.skipIf(!existsSync(SEA) && !process.env['CI'])('single executable', () => {
  it('single executable prints the mta and Node versions with an empty environment', async () => {
    const { bin } = install();
    const { stdout } = await run(bin, ['--version'], { env: ENV });
    expect(stdout).toMatch(new RegExp(`^mta ${VERSION.replaceAll('.', '\\.')} \\(Node\\.js v24\\.\\d+\\.\\d+\\)\\n$`));
  });

  it('single executable runs the daemon, its workers, logging, reload, sendmail and mailq outside the repository', async () => {
    const { dir, bin } = install();
    const port = await freePort();
    const config = writeConfig(dir, port);
    expect((await run(bin, ['-t', '-f', config], { env: ENV })).stdout).toBe(`mta: configuration ${config} is valid\n`);
    const daemon = spawn(bin, ['-f', config], { env: ENV, stdio: 'ignore', cwd: dir });
    const exited = new Promise((resolve) => daemon.once('exit', (code) => resolve(code)));
    try {
      await waitForPort(port);
      const tree = await waitFor('supervisor and three workers', () => {
        const pids = processTree(daemon.pid as number);
        return pids.length >= 4 && pids;
      });
      for (const pid of tree) expect(readlinkSync(`/proc/${pid}/exe`)).toBe(bin);
      expect(await sendMessage(port, 'alice@example.org')).toMatch(/^250 /);
      const sendmail = spawn(path.join(dir, 'sendmail'), ['-C', config, '-i', 'bob@example.org', 'carol@remote.test'], { env: ENV, stdio: ['pipe', 'ignore', 'inherit'] });
      sendmail.stdin.end('Subject: from the binary\n\nhi\n');
      expect(await new Promise((resolve) => sendmail.once('close', resolve))).toBe(0);
      for (const user of ['alice', 'bob']) {
        const inbox = path.join(dir, 'mail/example.org', user, 'new');
        await waitFor(`mail for ${user}`, () => existsSync(inbox) && readdirSync(inbox).length === 1);
      }
      const mailq = await run(path.join(dir, 'mailq'), ['-C', config], { env: ENV });
      expect(mailq.stdout).toContain('carol@remote.test');
      process.kill(daemon.pid as number, 'SIGHUP');
      await waitFor('the reload', () => fileLogLines(path.join(dir, 'log/mta.log')).some((l) => l.msg === 'config reloaded'));
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const lines = fileLogLines(path.join(dir, 'log/mta.log'));
    const started = lines.filter((l) => l.msg === 'worker started' && l.pid === daemon.pid);
    expect(started.map((l) => l.role).sort()).toEqual(['relay', 'smtp', 'smtp']);
    expect(lines.at(-1)?.msg).toBe('stopped');
  });
});
