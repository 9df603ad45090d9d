// swaks (a client we did not write) against the built server over loopback: local delivery into
// Maildir with our Received header, PIPELINING, IPv6, plain SMTP (HELO), and the relay rule
// (refused from 127.0.0.1, queued from 127.0.0.2 which is in relay_networks).
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, newFolder, queuedIds, readMessage, waitForFiles } from '../helpers/maildir.js';
import { requireSwaksFeature, runProgram, shouldRunDespite, shouldRunWith, swaksLacks } from '../helpers/peers.js';
import { type RunningServer, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/process.js';

const SWAKS = '/usr/bin/swaks';

describe.skipIf(!shouldRunWith(SWAKS, 'swaks tests'))('swaks', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  /** Runs swaks against the server; the body marker lets each test find its own message. */
  function swaks(to: string, marker: string, ...extra: string[]) {
    return runProgram(SWAKS, [
      '--server', '127.0.0.1', '--port', String(server.port),
      '--from', 'sender@example.net', '--to', to, '--helo', 'client.test',
      '--header', `Subject: ${marker}`, '--body', `Body of ${marker}\n.leading dot line\nlast line`,
      ...extra,
    ], { timeoutMs: 30_000 });
  }

  async function deliveredTo(address: string, marker: string) {
    const folder = newFolder(`${server.dir}/mail`, address);
    const until = Date.now() + 20_000;
    for (;;) {
      for (const file of listFiles(folder)) {
        const message = readMessage(file);
        if (message.headers.includes(`Subject: ${marker}\n`)) return message;
      }
      if (Date.now() > until) throw new Error(`no message "${marker}" in ${folder}`);
      await waitForFiles(folder, listFiles(folder).length + 1, 200);
    }
  }

  it('swaks delivers a plain message to a local Maildir with our Received header', async () => {
    const r = await swaks('alice@example.org', 'plain');
    expect(r.code, r.stdout).toBe(0);
    const queueId = /250 2\.0\.0 OK: queued as (\S+)/.exec(r.stdout)?.[1];
    expect(queueId, r.stdout).toBeDefined();
    const m = await deliveredTo('alice@example.org', 'plain');
    expect(m.raw.startsWith('Return-Path: <sender@example.net>\n')).toBe(true);
    expect(m.received).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\) by mx\.test \(mta\) with ESMTP id (\S+) for <alice@example\.org>; \w{3}, /);
    expect(m.received).toContain(`id ${queueId} `);
    expect(m.raw).not.toContain('\r');
    // swaks dot-stuffs the leading dot, which we unstuff; it ends its body with empty lines.
    expect(m.body).toMatch(/^Body of plain\n\.leading dot line\nlast line\n+$/);
  });

  it('swaks names no recipient in Received when a message has two', async () => {
    const r = await swaks('bob@example.org,carol@example.com', 'two-rcpts');
    expect(r.code, r.stdout).toBe(0);
    const bob = await deliveredTo('bob@example.org', 'two-rcpts');
    const carol = await deliveredTo('carol@example.com', 'two-rcpts');
    expect(bob.received).not.toContain(' for <');
    expect(carol.body).toBe(bob.body);
  });

  it('swaks --pipeline sends the envelope in one group and is accepted', async () => {
    const r = await swaks('dave@example.org', 'pipelined', '--pipeline');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/<- +250-PIPELINING/);
    const m = await deliveredTo('dave@example.org', 'pipelined');
    expect(m.received).toContain('for <dave@example.org>');
  });

  const ipv6 = shouldRunDespite(swaksLacks(SWAKS, 'IPv6'), 'swaks IPv6 test');
  it.skipIf(!ipv6)('swaks over IPv6 to ::1 shows the client as [IPv6:::1] in Received', async () => {
    requireSwaksFeature(SWAKS, 'IPv6');
    const r = await runProgram(SWAKS, [
      '--server', '::1', '--port', String(server.port), '-6',
      '--from', 'sender@example.net', '--to', 'erin@example.org', '--helo', 'client6.test',
      '--header', 'Subject: ipv6', '--body', 'over IPv6',
    ]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/250 mx\.test Hello \[::1\]|250-mx\.test Hello \[::1\]/);
    const m = await deliveredTo('erin@example.org', 'ipv6');
    expect(m.received).toMatch(/^Received: from client6\.test \(unknown \[IPv6:::1\]\) by mx\.test \(mta\) with ESMTP id /);
  });

  it('swaks --protocol SMTP speaks HELO and the Received header says SMTP', async () => {
    const r = await swaks('frank@example.org', 'helo-only', '--protocol', 'SMTP');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/-> HELO client\.test/);
    expect(r.stdout).not.toMatch(/-> EHLO/);
    const m = await deliveredTo('frank@example.org', 'helo-only');
    expect(m.received).toContain(' with SMTP id ');
  });

  it('swaks is refused relaying to a remote domain from 127.0.0.1 with 554 5.7.1', async () => {
    const before = queuedIds(`${server.dir}/queue`).length;
    const r = await swaks('someone@remote.test', 'relay-denied');
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stdout).toMatch(/<\*\* +554 5\.7\.1 /);
    expect(queuedIds(`${server.dir}/queue`)).toHaveLength(before);
  });

  it('swaks may relay from 127.0.0.2 and the message waits in the queue', async () => {
    const r = await swaks('someone@remote.test', 'relayed', '--local-interface', '127.0.0.2');
    expect(r.code, r.stdout).toBe(0);
    const queueId = /250 2\.0\.0 OK: queued as (\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(queuedIds(`${server.dir}/queue`)).toContain(queueId);
    // The test's DNS answers nothing: the first relay attempt defers the message.
    const dir = `${server.dir}/queue/deferred/m.${queueId}`;
    await waitFor('the deferral', () => existsSync(dir));
    const data = readFileSync(`${dir}/data`, 'latin1');
    expect(data).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.2\]\)/);
    expect(data).toContain('Subject: relayed\r\n');
    const envelope = JSON.parse(readFileSync(`${dir}/envelope`, 'utf8')) as { reversePath: string; recipients: { address: string }[] };
    expect(envelope.reversePath).toBe('sender@example.net');
    expect(envelope.recipients.map((x) => x.address)).toEqual(['someone@remote.test']);
  });
});
