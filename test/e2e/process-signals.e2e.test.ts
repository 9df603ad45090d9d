// Signals to the running supervisor and its workers: SIGHUP after logrotate's mv, SIGHUP with an
// invalid and with a valid config, a SIGKILLed SMTP worker coming back, and SIGTERM during a
// large DATA letting that message finish. Everything polls with deadlines; only our pids are signalled.
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLogLines, type LogLine, procStatus, sendMessage, smtpWorkerPids, waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

/** Starts mta logging to a file in its temp dir. */
async function start(server = ''): Promise<{ server: RunningServer; logFile: string; lines: () => LogLine[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-sig-'));
  const logFile = path.join(dir, 'log/mta.log');
  const running = await startServer({ dir, log: `level = "debug"; file = "${logFile}";`, server });
  return { server: running, logFile, lines: () => fileLogLines(logFile) };
}

function has(lines: readonly LogLine[], msg: string, match: (l: LogLine) => boolean = () => true): boolean {
  return lines.some((l) => l.msg === msg && match(l));
}

describe('process signals', () => {
  it('SIGHUP after the log file was moved writes new lines, workers included, to a new file', async () => {
    const { server, logFile, lines } = await start();
    try {
      await waitFor('the workers', () => lines().filter((l) => l.msg === 'worker started' && l.role === 'smtp' && l.pid !== server.process.pid).length === 2);
      renameSync(logFile, `${logFile}.1`);
      server.process.kill('SIGHUP');
      await waitFor('the reopened log', () => has(lines(), 'log file reopened'));
      expect(await sendMessage(server.port, 'bob@example.org')).toMatch(/^250 /);
      await waitFor('the session in the new file', () => has(lines(), 'disconnect'));
      expect(statSync(logFile).uid).toBe(process.getuid?.() === 0 ? 65534 : process.getuid?.());
      const old = fileLogLines(`${logFile}.1`);
      expect(has(old, 'started')).toBe(true);
      // (readiness probes may have connected before the move; the message came after it)
      expect(has(old, 'message accepted')).toBe(false);
      expect(has(lines(), 'message accepted')).toBe(true);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('SIGHUP with an invalid config logs every problem and keeps serving; a valid one applies new limits', async () => {
    const { server, lines } = await start();
    const original = readFileSync(server.configPath, 'utf8');
    try {
      writeFileSync(server.configPath, `${original}\nmax_bogus = 1;\nshutdown_timeout = "soon";\n`);
      server.process.kill('SIGHUP');
      const failures = await waitFor('the reload failure', () => {
        const f = lines().filter((l) => l.msg === 'config reload failed; keeping the running config');
        return f.length >= 2 && f;
      });
      expect(failures.map((f) => String(f.problem)).join('\n')).toMatch(/max_bogus[\s\S]*shutdown_timeout|shutdown_timeout[\s\S]*max_bogus/);
      const c = await RawClient.connect(server.port);
      expect((await c.reply()).code).toBe(220);
      await c.send('EHLO client.test\r\n');
      expect((await c.reply()).code).toBe(250);
      c.close();
      // Now a valid change: one recipient per message.
      writeFileSync(server.configPath, original.replace('reverse_dns = "off";', 'reverse_dns = "off"; max_recipients = 1;'));
      server.process.kill('SIGHUP');
      await waitFor('both workers reconfigured', () => lines().filter((l) => l.msg === 'worker reconfigured' && l.role === 'smtp').length === 2);
      const d = await RawClient.connect(server.port);
      await d.reply();
      for (const line of ['EHLO client.test', 'MAIL FROM:<a@client.test>', 'RCPT TO:<a@example.org>']) {
        await d.send(`${line}\r\n`);
        expect((await d.reply()).code).toBe(250);
      }
      await d.send('RCPT TO:<b@example.org>\r\n');
      expect((await d.reply()).code).toBe(452);
      d.close();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('a SIGKILLed SMTP worker is restarted and the service keeps answering', async () => {
    const { server, lines } = await start();
    const supervisor = server.process.pid as number;
    try {
      const [victim, ...survivors] = await waitFor('two SMTP workers', () => {
        const pids = smtpWorkerPids(lines(), supervisor);
        return pids.length === 2 && pids;
      });
      process.kill(victim as number, 'SIGKILL');
      await waitFor('the victim gone', () => procStatus(victim as number) === undefined || procStatus(victim as number)?.get('State')?.startsWith('Z'));
      const replacement = await waitFor('a new SMTP worker', () => smtpWorkerPids(lines(), supervisor).find((p) => p !== victim && !survivors.includes(p)));
      await waitFor('two SMTP workers again', () => smtpWorkerPids(lines(), supervisor).length === 2);
      expect(replacement).not.toBe(victim);
      expect(has(lines(), 'worker exited; restarting', (l) => l.worker === victim && l.signal === 'SIGKILL')).toBe(true);
      for (let i = 0; i < 4; i++) expect(await sendMessage(server.port, `carol${i}@example.org`)).toMatch(/^250 /);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('a client that connects while every SMTP worker is stopped waits in the backlog and is greeted by their replacements', async () => {
    const { server, lines } = await start();
    const supervisor = server.process.pid as number;
    try {
      const workers = await waitFor('two SMTP workers', () => {
        const pids = smtpWorkerPids(lines(), supervisor);
        return pids.length === 2 && pids;
      });
      // Stopped, neither can accept; the supervisor no longer does once the workers accept.
      for (const pid of workers) process.kill(pid, 'SIGSTOP');
      const client = await RawClient.connect(server.port);
      for (const pid of workers) process.kill(pid, 'SIGKILL');
      expect((await client.reply()).code).toBe(220);
      await client.send('QUIT\r\n');
      expect((await client.reply()).code).toBe(221);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('SIGTERM during a large DATA lets that message finish and be delivered, then exits 0', async () => {
    const { server, lines } = await start('max_message_size = 20000000;');
    const c = await RawClient.connect(server.port);
    await c.reply();
    for (const line of ['EHLO client.test', 'MAIL FROM:<sender@client.test>', 'RCPT TO:<dave@example.org>', 'DATA']) {
      await c.send(`${line}\r\n`);
      await c.reply();
    }
    const line = `${'x'.repeat(998)}\r\n`;
    const half = `Subject: big\r\n\r\n${line.repeat(4000)}`;
    await c.send(half);
    server.process.kill('SIGTERM');
    await waitFor('the worker draining', () => has(lines(), 'worker draining', (l) => l.role === 'smtp' && l.open === 1));
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: server.port }, () => resolve(false));
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await c.send(`${line.repeat(4000)}.\r\n`);
    expect((await c.reply()).last).toMatch(/^250 /);
    c.close();
    expect(await server.stop()).toBe(0);
    const inbox = path.join(server.dir, 'mail/example.org/dave/new');
    expect(existsSync(inbox) && readdirSync(inbox)).toHaveLength(1);
    const [file] = readdirSync(inbox);
    // Maildir stores LF line ends: 8000 lines of 998 characters and a newline, plus headers.
    expect(statSync(path.join(inbox, file as string)).size).toBeGreaterThan(8000 * 999);
    expect(lines().at(-1)?.msg).toBe('stopped');
  });
});
