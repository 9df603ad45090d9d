// Who may receive mail here: with the default config only users whose mailbox exists (or, later,
// whom an alias names); a client cannot create mailboxes for any local part it likes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessage, waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ awaitGreeting: true, maildir: '' });
});
afterAll(async () => {
  await server.stop();
});

describe('local recipients', () => {
  it('server refuses an unknown local user with 550 5.1.1 and creates nothing', async () => {
    const c = await RawClient.connect(server.port);
    await c.reply();
    await c.send('EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n');
    await c.reply();
    await c.reply();
    for (let i = 0; i < 50; i++) {
      await c.send(`RCPT TO:<user${i}@example.org>\r\n`);
      const reply = await c.reply();
      expect([reply.code, reply.last]).toEqual([550, expect.stringContaining('5.1.1') as string]);
    }
    c.close();
    expect(existsSync(path.join(server.dir, 'mail', 'example.org'))).toBe(false);
  });

  it('server delivers to a mailbox that exists', async () => {
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(server.dir, 'mail', 'example.org', 'carol', sub), { recursive: true });
    // As root the server runs as nobody, which must own the mailbox as it would its user's.
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'nobody:nogroup', path.join(server.dir, 'mail')]);
    expect(await sendMessage(server.port, 'Carol@example.org')).toMatch(/^250 /);
    await waitFor('the delivery', () => readdirSync(path.join(server.dir, 'mail', 'example.org', 'carol', 'new')).length === 1);
  });
});
