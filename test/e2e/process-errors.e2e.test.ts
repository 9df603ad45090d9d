// Operator mistakes at start-up: each ends with exactly one line on stderr and exit status 1,
// never a stack trace and never a half-started daemon.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privilegedPort, runMta } from '../helpers/process.js';
import { freePort, RUN_AS } from '../helpers/server.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;
/** Debian's `mail` group. */
const MAIL_GID = 8;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mta-err-'));
  // Traversable by nobody, for the test that starts mta as nobody.
  chmodSync(dir, 0o755);
});

/** Writes a config into its own subdirectory and returns its path. */
function config(name: string, settings: { top?: string; listen?: string; queue?: string } = {}): string {
  const sub = path.join(dir, name);
  mkdirSync(sub, { recursive: true, mode: 0o755 });
  const file = path.join(sub, 'mta.conf');
  writeFileSync(
    file,
    `hostname = "mx.test";
domains = [ "example.org" ];
${settings.top ?? RUN_AS}
server = { listen = [ "${settings.listen ?? '127.0.0.1:1'}" ]; reverse_dns = "off"; };
maildir = { root = "${sub}/mail"; };
queue = { root = "${settings.queue ?? `${sub}/queue`}"; };
`,
    { mode: 0o644 },
  );
  return file;
}

function expectOneLine(result: { code: number | null; stderr: string }, line: string): void {
  expect(result.stderr).toBe(`${line}\n`);
  expect(result.code).toBe(1);
}

describe('start-up mistakes', () => {
  let busy: net.Server;
  let busyPort: number;
  beforeAll(async () => {
    busyPort = await freePort();
    busy = net.createServer().listen({ host: '127.0.0.1', port: busyPort });
    await new Promise((r) => busy.once('listening', r));
  });
  afterAll(() => new Promise<void>((r) => busy.close(() => r())));

  it('address already in use', async () => {
    const file = config('in-use', { listen: `127.0.0.1:${busyPort}` });
    expectOneLine(await runMta(['-f', file]), `mta: cannot bind 127.0.0.1:${busyPort}: address already in use`);
  });

  it.skipIf(!root)('a user that does not exist', async () => {
    const file = config('no-user', { top: 'user = "mta-no-such-user";' });
    expectOneLine(await runMta(['-f', file]), 'mta: user "mta-no-such-user" does not exist');
  });

  it.skipIf(!root)('a group that does not exist', async () => {
    const file = config('no-group', { top: 'user = "nobody"; group = "mta-no-such-group";' });
    expectOneLine(await runMta(['-f', file]), 'mta: group "mta-no-such-group" does not exist');
  });

  it.skipIf(!root)('root without a user names the key', async () => {
    const file = config('no-user-key', { top: '' });
    expectOneLine(await runMta(['-f', file]), `mta: refusing to run as root: set "user" (and "group") in ${file}`);
  });

  it.skipIf(!root)('a port below 1024 while not root', async () => {
    const port = await privilegedPort();
    const file = config('low-port', { top: '', listen: `127.0.0.1:${port}` });
    chownSync(path.dirname(file), NOBODY, NOBODY);
    const result = await runMta(['-f', file], { uid: NOBODY, gid: NOBODY });
    expectOneLine(result, `mta: cannot bind 127.0.0.1:${port}: permission denied (ports below 1024 need root)`);
  });

  it.skipIf(!root)('a queue directory the service user cannot reach', async () => {
    // Root can create it, but after the drop nobody cannot enter the 0700 parent.
    const hidden = path.join(dir, 'hidden');
    mkdirSync(hidden, { mode: 0o700 });
    const file = config('unreachable', { listen: `127.0.0.1:${await freePort()}`, queue: `${hidden}/queue` });
    expectOneLine(await runMta(['-f', file]), `mta: cannot write to directory ${hidden}/queue as user nobody: permission denied`);
  });

  it.skipIf(!root)('an existing maildir root keeps its owner and mode, and one the user cannot write stops the start', async () => {
    // Debian's /var/mail: root:mail 2775. mta did not create it, so it must not chown or chmod it.
    const file = config('var-mail', { listen: `127.0.0.1:${await freePort()}` });
    const mail = path.join(path.dirname(file), 'mail');
    mkdirSync(mail);
    chmodSync(mail, 0o2775);
    chownSync(mail, 0, MAIL_GID);
    expectOneLine(await runMta(['-f', file]), `mta: cannot write to directory ${mail} as user nobody: permission denied`);
    expect(statSync(mail)).toMatchObject({ uid: 0, gid: MAIL_GID, mode: 0o42775 });
  });

  it('a queue directory that cannot be created', async () => {
    const blocker = path.join(dir, 'blocker');
    writeFileSync(blocker, 'a file, not a directory\n');
    const file = config('uncreatable', { listen: `127.0.0.1:${await freePort()}`, queue: `${blocker}/queue` });
    expectOneLine(await runMta(['-f', file]), `mta: cannot create directory ${blocker}/queue: a path component is not a directory`);
  });
});
