// The supervisor SIGKILLed alone (OOM kill, crash, mistake): its workers must not outlive it,
// busy or idle, and a restart on the same queue serves and loses nothing. One daemon per queue:
// a second one on the same queue refuses to start and names the first one's pid.
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLogLines, isAlive, logLines, processTree, runMta, sendMessage, waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/server.js';

describe('orphaned workers', () => {
  it('workers end within 2 s of a SIGKILL of the supervisor alone, and a restart serves and delivers', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-orphan-'));
    // In a directory mta creates, so it belongs to the service user: mta never takes over `dir`.
    const logFile = path.join(dir, 'log/mta.log');
    const server = await startServer({ dir, awaitGreeting: true, log: `level = "info"; file = "${logFile}";` });
    const supervisor = server.process.pid ?? 0;
    await waitFor('three workers', () => fileLogLines(logFile).filter((l) => l.msg === 'worker started' && l.pid !== supervisor).length === 3);
    // One worker busy in the middle of DATA, one session idle.
    const busy = await RawClient.connect(server.port);
    await busy.reply();
    await busy.send('EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n');
    for (let i = 0; i < 4; i++) await busy.reply();
    await busy.send('Subject: half\r\n\r\nnot finished');
    const idle = await RawClient.connect(server.port);
    await idle.reply();
    const workers = processTree(supervisor).filter((pid) => pid !== supervisor);
    expect(workers).toHaveLength(3);

    process.kill(supervisor, 'SIGKILL');
    // The backstop ends a worker 1 s after it is orphaned; each is meant to end at once.
    await waitFor('every worker gone', () => workers.every((pid) => !isAlive(pid)), 2000);
    // The half-sent message gets no 250: its connection is cut.
    await busy.send('\r\n.\r\n').catch(() => undefined);
    await busy.closed(5000);
    await idle.closed(5000);

    const again = await startServer({ dir, port: server.port, awaitGreeting: true });
    try {
      expect(await sendMessage(again.port, 'bob@example.org')).toMatch(/^250 /);
      const newDir = path.join(dir, 'mail', 'example.org', 'bob', 'new');
      await waitFor('the delivery', () => readdirSync(newDir).length === 1);
      expect(readdirSync(path.join(dir, 'queue', 'tmp'))).toEqual([]);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  // Node emits no 'disconnect' when the channel closes while a handle it sent waits for its
  // acknowledgement. An SMTP worker lends the supervisor its listening socket at start-up: stopped
  // (SIGSTOP) from the moment it forks, the supervisor never acknowledges, then dies. Such a worker
  // once served on, orphaned, holding the port, so the next start failed: address already in use.
  it('SMTP workers whose lent listening socket the supervisor never acknowledged end when it is SIGKILLed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-orphan-'));
    const logFile = path.join(dir, 'log/mta.log');
    const server = await startServer({ dir, log: `level = "info"; file = "${logFile}";` });
    const supervisor = server.process.pid ?? 0;
    // The supervisor forks the workers one after the other, each getting its 'start' at once: with
    // all three there, both SMTP workers have theirs, and are still starting Node.
    await waitFor('the three workers forked', () => processTree(supervisor).length === 4, 10_000);
    process.kill(supervisor, 'SIGSTOP');
    let workers: number[] = [];
    try {
      await waitFor('an SMTP worker accepting', () => fileLogLines(logFile).some((l) => l.msg === 'worker started' && l.role === 'smtp'), 10_000);
      workers = processTree(supervisor).filter((pid) => pid !== supervisor);
      process.kill(supervisor, 'SIGKILL');
      await waitFor('every worker gone', () => workers.every((pid) => !isAlive(pid)), 5000);
    } finally {
      // Nothing of this test outlives it, whatever failed.
      for (const pid of [supervisor, ...workers]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    const again = await startServer({ dir, port: server.port, awaitGreeting: true });
    expect(await again.stop()).toBe(0);
  });

  it('a SIGKILLed SMTP worker leaves no half-received message in queue tmp/', async () => {
    const server = await startServer({ awaitGreeting: true });
    try {
      const busy = await RawClient.connect(server.port);
      await busy.reply();
      // Two mailboxes: the message is spooled in the queue while it arrives.
      await busy.send('EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n');
      for (let i = 0; i < 5; i++) await busy.reply();
      await busy.send(`Subject: half\r\n\r\n${'x'.repeat(100_000)}`);
      const tmp = path.join(server.dir, 'queue', 'tmp');
      const [spool] = await waitFor('the spool in tmp/', () => readdirSync(tmp).length === 1 && readdirSync(tmp));
      const owner = Number(spool?.split('.').at(-1));
      expect(processTree(server.process.pid ?? 0)).toContain(owner);
      process.kill(owner, 'SIGKILL');
      await busy.closed(5000);
      await waitFor('tmp/ emptied', () => readdirSync(tmp).length === 0, 5000);
      expect(await sendMessage(server.port, 'bob@example.org')).toMatch(/^250 /);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('a SIGKILLed SMTP worker writing into a mailbox leaves nothing in new/, only a tmp/ file a reader ignores', async () => {
    const server = await startServer({ awaitGreeting: true });
    try {
      expect(await sendMessage(server.port, 'dora@example.org')).toMatch(/^250 /); // creates the mailbox
      const box = path.join(server.dir, 'mail', 'example.org', 'dora');
      const busy = await RawClient.connect(server.port);
      await busy.reply();
      await busy.send('EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<dora@example.org>\r\nDATA\r\n');
      for (let i = 0; i < 4; i++) await busy.reply();
      await busy.send(`Subject: half\r\n\r\n${'x'.repeat(100_000)}`);
      // One recipient's mailbox: the message goes straight into its tmp/ (Maildir names carry the pid).
      const [partial] = await waitFor('the file in tmp/', () => readdirSync(path.join(box, 'tmp')).length === 1 && readdirSync(path.join(box, 'tmp')));
      const owner = Number(/P(\d+)Q/.exec(partial ?? '')?.[1]);
      expect(processTree(server.process.pid ?? 0)).toContain(owner);
      process.kill(owner, 'SIGKILL');
      await busy.closed(5000);
      // The next client must not be handed to the dead worker: wait until the supervisor has seen it die.
      await waitFor('the worker restart', () => logLines(server.output()).some((l) => l.msg === 'worker exited; restarting' && l.worker === owner));
      expect(readdirSync(path.join(box, 'new'))).toHaveLength(1);
      expect(readdirSync(path.join(server.dir, 'queue', 'incoming'))).toEqual([]);
      expect(await sendMessage(server.port, 'dora@example.org')).toMatch(/^250 /);
      expect(readdirSync(path.join(box, 'new'))).toHaveLength(2);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('a second daemon on the same queue refuses to start and names the first one', async () => {
    const server = await startServer({ awaitGreeting: true });
    try {
      const second = await runMta(['-f', server.configPath]);
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(`mta: queue ${server.dir}/queue is in use by pid ${server.process.pid}\n`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
