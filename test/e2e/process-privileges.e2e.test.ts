// Started as root on a port below 1024, every mta process (supervisor and workers) runs as
// nobody/nogroup with no other groups, mail is still received and delivered, and the pid file is
// written before the drop and removed at a clean exit. Needs root (CI runs as root).
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLogLines, privilegedPort, processTree, procStatus, sendMessage, waitFor } from '../helpers/process.js';
import { startServer } from '../helpers/server.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

describe.skipIf(!root)('process model as root', () => {
  it('supervisor and workers drop to nobody on a privileged port, deliver mail, and keep the pid file', async () => {
    const port = await privilegedPort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-proc-'));
    // The pid file's directory belongs to the service user, so the stopped daemon can remove it.
    mkdirSync(path.join(dir, 'run'), { mode: 0o755 });
    chownSync(path.join(dir, 'run'), NOBODY, NOBODY);
    const pidFile = path.join(dir, 'run/mta.pid');
    const logFile = path.join(dir, 'log/mta.log');
    const server = await startServer({ dir, port, top: `pid_file = "${pidFile}";`, log: `level = "debug"; file = "${logFile}";`, server: 'workers = 2;' });
    try {
      const supervisor = server.process.pid as number;
      expect(readFileSync(pidFile, 'utf8')).toBe(`${supervisor}\n`);
      // Two SMTP workers and one relay worker under the supervisor.
      const tree = await waitFor('the workers', () => {
        const t = processTree(supervisor);
        return t.length >= 4 && t;
      });
      for (const pid of tree) {
        const status = procStatus(pid);
        expect(status?.get('Uid'), `Uid of ${pid}`).toBe(`${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}`);
        expect(status?.get('Gid'), `Gid of ${pid}`).toBe(`${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}`);
        expect(status?.get('Groups'), `Groups of ${pid}`).toBe(`${NOBODY}`);
      }
      expect(await sendMessage(port, 'alice@example.org')).toMatch(/^250 /);
      const inbox = path.join(dir, 'mail/example.org/alice/new');
      await waitFor('the delivered message', () => existsSync(inbox) && readdirSync(inbox).length === 1);
      const started = fileLogLines(logFile).find((l) => l.msg === 'started');
      expect(started).toMatchObject({ pid: supervisor, user: 'nobody', version: expect.any(String) });
      expect(started?.listen).toEqual([`127.0.0.1:${port}`, `[::1]:${port}`]);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(existsSync(pidFile)).toBe(false);
    const lines = fileLogLines(logFile);
    expect(lines.at(-1)?.msg).toBe('stopped');
    expect(lines.some((l) => l.msg === 'message accepted')).toBe(true);
  });
});
