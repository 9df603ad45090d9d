// Helpers for the process-model tests: the mta processes under a pid (via /proc PPid), their
// credentials, polling with a deadline, log lines, a free privileged port, and one SMTP transaction.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { mtaCommand } from './server.js';
import { RawClient } from './raw-client.js';

/** Polls `check` until it returns a value other than undefined/false, or throws at the deadline. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50)); // a pause between polls
  }
}

/** The fields of /proc/PID/status, or undefined when the process is gone. */
export function procStatus(pid: number): Map<string, string> | undefined {
  try {
    const fields = new Map<string, string>();
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).trim());
    }
    return fields;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is still running. A process that has exited holds no descriptor (no listening
 * socket) even while it stays a zombie until whoever adopted it reaps it (PID 1 took up to 2 s
 * here), so a zombie has ended; one killed in the middle of a system call (an fsync) has not.
 */
export function isAlive(pid: number): boolean {
  const state = procStatus(pid)?.get('State');
  return state !== undefined && !state.startsWith('Z');
}

/** `pid` and every live process descending from it (by the PPid chain). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(procStatus(Number(entry))?.get('PPid'));
    if (Number.isInteger(ppid)) parents.set(Number(entry), ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree.filter((p) => existsSync(`/proc/${p}`));
}

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown> & { msg?: string; pid?: number; level?: number };

/** Parses the JSON lines of a log text; other lines are skipped. */
export function logLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a line still being written
    }
  }
  return lines;
}

/** Reads a log file's lines; none when it does not exist (yet). */
export function fileLogLines(file: string): LogLine[] {
  return existsSync(file) ? logLines(readFileSync(file, 'utf8')) : [];
}

/** The pids of the live SMTP workers, from their 'worker started' lines in the supervisor's log. */
export function smtpWorkerPids(lines: readonly LogLine[], supervisor: number): number[] {
  const started = lines.filter((l) => l.msg === 'worker started' && l.pid === supervisor && l.role === 'smtp').map((l) => Number(l.worker));
  return started.filter((pid) => procStatus(pid) !== undefined && processTree(supervisor).includes(pid));
}

/** A port below 1024 that 127.0.0.1 and ::1 both have free right now. */
export async function privilegedPort(): Promise<number> {
  for (let port = 600 + Math.floor(Math.random() * 300); port < 1000; port++) {
    if (await isPortFree(port)) return port;
  }
  throw new Error('no free port between 600 and 1000');
}

/** Whether nothing listens on `port` at 127.0.0.1 or ::1 (a server could bind it now). */
export async function isPortFree(port: number): Promise<boolean> {
  return (await canBind('127.0.0.1', port)) && (await canBind('::1', port));
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer().listen({ host, port, ipv6Only: host.includes(':') }, () => s.close(() => resolve(true)));
    s.on('error', () => resolve(false));
  });
}

/** Runs mta to its exit with the given arguments; for start-up failures. */
export function runMta(args: readonly string[], options: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const command = mtaCommand(args);
    const child = spawn(command.file, command.args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** Sends one message through a whole session; resolves with the reply to the final dot. */
export async function sendMessage(port: number, rcpt: string, body = 'Subject: test\r\n\r\nhello\r\n'): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    await c.reply();
    for (const line of ['EHLO client.test', 'MAIL FROM:<sender@client.test>', `RCPT TO:<${rcpt}>`, 'DATA']) {
      await c.send(`${line}\r\n`);
      await c.reply();
    }
    await c.send(`${body}.\r\n`);
    const done = (await c.reply()).last;
    await c.send('QUIT\r\n');
    await c.reply();
    return done;
  } finally {
    c.close();
  }
}
