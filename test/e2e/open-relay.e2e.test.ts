// Relay control against the built server: nmap's smtp-open-relay script (16 MAIL FROM / RCPT TO
// tricks: percent hacks, bang paths, address literals, quoted local parts) finds no open relay
// from 127.0.0.1, outside relay_networks (127.0.0.2/32 in the test config), and swaks from
// 127.0.0.3 is refused 554 5.7.1 with nothing queued while local mail is taken from anyone.
// nmap targets 127.0.0.1 and the test's own port only (-n: no DNS, -Pn: no ping, -sT: connects).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuedIds } from '../helpers/maildir.js';
import { runProgram, shouldRunWith } from '../helpers/peers.js';
import { logLines } from '../helpers/process.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const SWAKS = '/usr/bin/swaks';

describe.skipIf(!shouldRunWith('nmap', 'open relay tests') || !shouldRunWith(SWAKS, 'open relay tests'))('relay control', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ awaitGreeting: true, maildir: 'create_mailboxes = false;' });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  /** Runs smtp-open-relay against our port; `source` binds the script's connections to that address. */
  async function nmap(source?: string): Promise<string> {
    const from = source === undefined ? [] : ['-S', source, '-e', 'lo'];
    // "+" runs the script whatever port it is on (its portrule wants 25, 465 or 587).
    const args = ['-n', '-Pn', '-sT', ...from, '-p', String(server.port), '--script', '+smtp-open-relay', '--script-args', 'smtp-open-relay.domain=example.net,smtp-open-relay.to=relaytest,smtp-open-relay.from=antispam', '127.0.0.1'];
    const r = await runProgram('nmap', args, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  }

  it('nmap smtp-open-relay finds no open relay from an address outside relay_networks, and nothing is queued', async () => {
    expect(await nmap()).toContain("smtp-open-relay: Server doesn't seem to be an open relay, all tests failed");
    expect(queuedIds(`${server.dir}/queue`)).toEqual([]);
    // The script's sessions really came from a client that may not relay (nmap's port probe, gone
    // before it is served, logs no address).
    const connects = logLines(server.output()).filter((l) => l.msg === 'connect');
    expect(connects.filter((l) => l.ip === '127.0.0.1').length).toBeGreaterThan(1);
    expect(connects.filter((l) => l.mayRelay !== false)).toEqual([]);
  });

  it('nmap smtp-open-relay from 127.0.0.2, inside relay_networks, sees its recipients accepted (the script sends no data)', async () => {
    expect(await nmap('127.0.0.2')).toMatch(/smtp-open-relay: Server is an open relay \(\d+\/16 tests\)/);
    expect(queuedIds(`${server.dir}/queue`)).toEqual([]);
  });

  it('swaks from outside relay_networks gets 554 5.7.1 for a remote domain, nothing queued; local postmaster is accepted', async () => {
    const swaks = (to: string) => runProgram(SWAKS, ['--server', '127.0.0.1', '--port', String(server.port), '--local-interface', '127.0.0.3', '--from', 'sender@client.test', '--to', to, '--helo', 'client.test'], { timeoutMs: 30_000 });
    const relayed = await swaks('victim@remote.test');
    expect(relayed.stdout).toMatch(/^<\*\* 554 5\.7\.1 Relay access denied$/m);
    expect(queuedIds(`${server.dir}/queue`)).toEqual([]);
    const local = await swaks('postmaster@example.com');
    expect(local.code, local.stdout).toBe(0);
  });
});
