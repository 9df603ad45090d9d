// Postfix's smtp-source (a sender we did not write) bursts 1,000 messages over 20 parallel
// sessions at the built server; every one must arrive in the Maildir with its own queue id.
// Bounded in count (smtp-source -m) and in time (its run and the wait for files have deadlines).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newFolder, readMessage, waitForFiles } from '../helpers/maildir.js';
import { runProgram, shouldRunWith } from '../helpers/peers.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const SMTP_SOURCE = '/usr/sbin/smtp-source';

/** Asserts `count` messages in the mailbox, each with a distinct queue id in its Received header. */
async function expectDistinctMessages(server: RunningServer, address: string, count: number): Promise<void> {
  const files = await waitForFiles(newFolder(`${server.dir}/mail`, address), count, 30_000);
  expect(files).toHaveLength(count);
  const ids = new Set<string>();
  for (const file of files) {
    const m = readMessage(file);
    const id = / with E?SMTP id (\S+) for </.exec(m.received)?.[1];
    expect(id, m.received).toBeDefined();
    ids.add(id as string);
  }
  expect(ids.size).toBe(count);
}

describe.skipIf(!shouldRunWith(SMTP_SOURCE, 'smtp-source tests'))('smtp-source', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // Without -d each message is its own session; the slack covers sessions the server has not
    // yet seen close when smtp-source reconnects.
    server = await startServer({ awaitGreeting: true, server: 'max_connections_per_ip = 60; max_connections = 100;' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('smtp-source delivers 1,000 messages over 20 sessions, each with its own queue id', { timeout: 120_000 }, async () => {
    const r = await runProgram(
      SMTP_SOURCE,
      ['-d', '-s', '20', '-m', '1000', '-l', '2048', '-f', 'sender@example.net', '-t', 'burst@example.org', `127.0.0.1:${server.port}`],
      { timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    await expectDistinctMessages(server, 'burst@example.org', 1000);
  });

  it('smtp-source delivers 200 messages with one session per message', { timeout: 60_000 }, async () => {
    const r = await runProgram(
      SMTP_SOURCE,
      ['-s', '20', '-m', '200', '-f', 'sender@example.net', '-t', 'churn@example.org', `127.0.0.1:${server.port}`],
      { timeoutMs: 45_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    await expectDistinctMessages(server, 'churn@example.org', 200);
  });
});
