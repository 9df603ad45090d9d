// `mta queue list|show|delete|flush -f CONFIG` against the queue of a running daemon: messages
// relayed from 127.0.0.2 to a remote domain are deferred (the test's DNS answers nothing), and a
// local recipient whose mailbox path is blocked by a file stays deferred. Runs the built executable.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listQueueFolder } from '../helpers/maildir-scan.js';
import { buildMessage, sendOnce, type SendResult } from '../helpers/smtp-send.js';
import { waitFor } from '../helpers/process.js';
import { mtaCommand, type RunningServer, startServer } from '../helpers/server.js';

const execFileAsync = promisify(execFile);

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let server: RunningServer;
const queued: { result: SendResult; sender: string; rcpts: string[]; subject: string }[] = [];

async function cli(...args: string[]): Promise<CliResult> {
  try {
    const command = mtaCommand(['queue', ...args, '-f', server.configPath]);
    const { stdout, stderr } = await execFileAsync(command.file, command.args);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function relay(sender: string, rcpts: string[], subject: string): Promise<SendResult> {
  const data = buildMessage({ from: sender || 'mailer-daemon@client.test', to: rcpts[0] as string, messageId: `${subject}@client.test`, subject, body: `Body of ${subject}\r\nBODY-MARKER` });
  const result = await sendOnce(server.port, { from: sender, to: rcpts, data }, '127.0.0.2');
  expect(result.reply.code, result.reply.last).toBe(250);
  expect(result.queueId).toMatch(/^[0-9A-Z]{16}$/);
  queued.push({ result, sender, rcpts, subject });
  return result;
}

function idOf(i: number): string {
  return queued[i]?.result.queueId as string;
}

beforeAll(async () => {
  server = await startServer();
  // A file where gina's mailbox directory would go: her delivery fails transiently (deferred).
  mkdirSync(path.join(server.dir, 'mail', 'example.org'), { recursive: true });
  writeFileSync(path.join(server.dir, 'mail', 'example.org', 'gina'), 'not a mailbox\n');
  await relay('alice@client.test', ['dave@remote.test', 'erin@remote.test'], 'first');
  await relay('', ['frank@remote.test'], 'second');
  await relay('bob@client.test', ['gina@example.org', 'hank@remote.test'], 'third');
  // Each remote recipient is tried once (DNS fails) and deferred; the queue is then still.
  await waitFor('every message deferred', () => listQueueFolder(path.join(server.dir, 'queue'), 'deferred').length === 3, 30_000);
  await waitFor('every remote recipient tried', async () => !(await cli('list')).stdout.includes('pending'));
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe('queue cli', () => {
  it('queue list shows id, size, age, state, sender and every recipient with its status', async () => {
    const out = await cli('list');
    expect(out.code, out.stderr).toBe(0);
    const states: Record<string, string> = { [idOf(0)]: 'deferred', [idOf(1)]: 'deferred', [idOf(2)]: 'deferred' };
    let total = 0;
    for (const [i, q] of queued.entries()) {
      const id = idOf(i);
      const dataPath = path.join(server.dir, 'queue', states[id] as string, `m.${id}`, 'data');
      const size = statSync(dataPath).size;
      total += size;
      const head = new RegExp(`^${id}\\s+${size}\\s+\\d+[smhd](?: \\d+[smhd])?\\s+${states[id]}\\s+<${q.sender}>$`, 'm');
      expect(out.stdout).toMatch(head);
    }
    expect(out.stdout).toMatch(/^ {4}dave@remote\.test {2}deferred, next in \S+(?: \S+)?: 451 4\.4\.3 /m);
    expect(out.stdout).toMatch(/^ {4}erin@remote\.test {2}deferred, next in \S+(?: \S+)?: 451 4\.4\.3 /m);
    expect(out.stdout).toMatch(/^ {4}frank@remote\.test {2}deferred, next in \S+(?: \S+)?: 451 4\.4\.3 /m);
    expect(out.stdout).toMatch(/^ {4}gina@example\.org {2}deferred, next in \S+(?: \S+)?: 452 4\.3\.1 /m);
    expect(out.stdout).toMatch(/^ {4}hank@remote\.test {2}deferred, next in \S+(?: \S+)?: 451 4\.4\.3 /m);
    expect(out.stdout.trimEnd().split('\n').at(-1)).toBe(`-- 3 messages, ${total} bytes`);
  });

  it('queue show prints the state, the envelope and the header, not the body', async () => {
    const out = await cli('show', idOf(0).toLowerCase());
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.startsWith('State: deferred\n')).toBe(true);
    const json = out.stdout.slice(out.stdout.indexOf('{'), out.stdout.indexOf('\n}\n') + 2);
    const envelope = JSON.parse(json) as { queueId: string; reversePath: string; recipients: { address: string; status: string }[] };
    expect(envelope.queueId).toBe(idOf(0));
    expect(envelope.reversePath).toBe('alice@client.test');
    expect(envelope.recipients.map((r) => [r.address, r.status])).toEqual([
      ['dave@remote.test', 'deferred'],
      ['erin@remote.test', 'deferred'],
    ]);
    expect(out.stdout).toMatch(new RegExp(`^Received: from client\\.test [^]*?id ${idOf(0)}`, 'm'));
    expect(out.stdout).toMatch(/^Subject: first$/m);
    expect(out.stdout).not.toContain('BODY-MARKER');
  });

  it('queue show and delete of an unknown id say so and exit 1', async () => {
    for (const [verb, id] of [['show', '0000000000000000'], ['delete', '0000000000000000'], ['delete', 'not-an-id']]) {
      const out = await cli(verb as string, id as string);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe(`mta: queue: no message "${id}"\n`);
      expect(out.stdout).toBe('');
    }
  });

  it('queue flush makes deferred recipients due now and exits 0, leaving the envelope readable by the daemon', async () => {
    const before = Date.now();
    const out = await cli('flush');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^3 messages flushed/);
    const dirPath = path.join(server.dir, 'queue', 'deferred', `m.${idOf(2)}`);
    const envelopePath = path.join(dirPath, 'envelope');
    const envelope = JSON.parse(readFileSync(envelopePath, 'utf8')) as { recipients: { address: string; nextAttemptAt?: string }[] };
    const gina = envelope.recipients.find((r) => r.address === 'gina@example.org');
    expect(Date.parse(gina?.nextAttemptAt ?? '')).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(gina?.nextAttemptAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
    // The daemon runs as the service user: a rewrite by root must stay the service user's.
    const owner = statSync(dirPath);
    expect(statSync(envelopePath)).toMatchObject({ uid: owner.uid, gid: owner.gid });
    // A restart runs recovery: the flushed message must still be a live deferred one, not corrupt.
    expect(await server.stop()).toBe(0);
    server = await startServer({ dir: server.dir, port: server.port });
    expect(listQueueFolder(path.join(server.dir, 'queue'), 'corrupt')).toEqual([]);
    expect(listQueueFolder(path.join(server.dir, 'queue'), 'deferred')).toContain(`m.${idOf(2)}`);
  });

  it('queue delete removes a message for good and list no longer shows it', async () => {
    const out = await cli('delete', idOf(1));
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(`${idOf(1)}: deleted\n`);
    expect(listQueueFolder(path.join(server.dir, 'queue'), 'deferred')).not.toContain(`m.${idOf(1)}`);
    expect(listQueueFolder(path.join(server.dir, 'queue'), 'tmp')).toEqual([]);
    const list = await cli('list');
    expect(list.stdout).not.toContain(idOf(1));
    expect(list.stdout.trimEnd().split('\n').at(-1)).toMatch(/^-- 2 messages, \d+ bytes$/);
  });

  it('queue list says the queue is empty once every message is deleted', async () => {
    for (const i of [0, 2]) expect((await cli('delete', idOf(i))).code).toBe(0);
    const out = await cli('list');
    expect(out).toEqual({ code: 0, stdout: 'Mail queue is empty\n', stderr: '' });
  });
});
