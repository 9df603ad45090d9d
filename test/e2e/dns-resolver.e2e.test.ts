// The DNS module against real DNS servers on loopback: dns2 in this process for the failure
// modes (SERVFAIL, REFUSED, silence), dnsmasq as an independent second server for plain records.
// Every result is tagged: found, no such name, no data, temporary failure; never a throw.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver } from '../../src/dns/resolver.js';
import { type Failure, reverseName, startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { findProgram, shouldRunWith } from '../helpers/peers.js';
import { freePort } from '../helpers/server.js';
import { waitFor } from '../helpers/process.js';

let dns: TestDnsServer;

beforeAll(async () => {
  dns = await startDnsServer(
    [
      { name: 'mx.test', type: 'A', address: '192.0.2.10', ttl: 120 },
      { name: 'mx.test', type: 'AAAA', address: '2001:db8::10' },
      { name: 'example.test', type: 'MX', exchange: 'mx.test', priority: 10 },
      { name: 'example.test', type: 'TXT', data: 'v=spf1 -all' },
      { name: reverseName('127.0.0.2'), type: 'PTR', domain: 'good.test' },
      { name: 'good.test', type: 'A', address: '127.0.0.2' },
      { name: reverseName('127.0.0.3'), type: 'PTR', domain: 'liar.test' },
      { name: 'liar.test', type: 'A', address: '192.0.2.99' },
      { name: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa', type: 'PTR', domain: 'six.test' },
      { name: 'six.test', type: 'AAAA', address: '::1' },
    ],
    new Map<string, Failure>([
      ['broken.test', 'servfail'],
      ['refusing.test', 'refused'],
      ['slow.test', 'silent'],
      [reverseName('127.0.0.5'), 'silent'],
    ]),
  );
});
afterAll(async () => {
  await dns.close();
});

const resolver = () => new DnsResolver({ servers: [dns.server], timeoutMs: 1000 });

describe('dns resolver', () => {
  it('dns resolver finds A, AAAA, MX and TXT records with their TTL', async () => {
    const r = resolver();
    expect(await r.a('mx.test')).toEqual({ kind: 'found', records: ['192.0.2.10'], ttlSec: 120 });
    expect(await r.aaaa('mx.test')).toMatchObject({ kind: 'found', records: ['2001:db8::10'] });
    expect(await r.mx('example.test')).toMatchObject({ kind: 'found', records: [{ exchange: 'mx.test', priority: 10 }] });
    expect(await r.txt('example.test')).toMatchObject({ kind: 'found', records: ['v=spf1 -all'] });
  });

  it('dns resolver tells a name that does not exist from one without data of that type', async () => {
    const r = resolver();
    expect(await r.a('nothing.test')).toEqual({ kind: 'no-such-name' });
    expect(await r.mx('mx.test')).toEqual({ kind: 'no-data' });
  });

  it('dns resolver reports SERVFAIL, REFUSED and silence as temporary failures, never a throw', async () => {
    const r = resolver();
    expect(await r.a('broken.test')).toMatchObject({ kind: 'temporary-failure' });
    expect(await r.a('refusing.test')).toMatchObject({ kind: 'temporary-failure' });
    expect(await r.a('slow.test')).toEqual({ kind: 'temporary-failure', reason: 'timeout' });
  });

  it('dns resolver answers repeated questions from its cache, but never caches a failure', async () => {
    const r = resolver();
    const asked = () => dns.asked.filter((q) => q === 'A mx.test' || q === 'A broken.test').length;
    const before = asked();
    await r.a('mx.test');
    await r.a('mx.test');
    await r.a('broken.test');
    await r.a('broken.test');
    expect(asked() - before).toBe(3);
  });

  it('dns resolver confirms a PTR name forward (FCrDNS), IPv4 and IPv6', async () => {
    const r = resolver();
    expect(await r.confirmedName('127.0.0.2')).toEqual({ kind: 'confirmed', name: 'good.test' });
    expect(await r.confirmedName('::ffff:127.0.0.2')).toEqual({ kind: 'confirmed', name: 'good.test' });
    expect(await r.confirmedName('127.0.0.3')).toEqual({ kind: 'unconfirmed', name: 'liar.test' });
    expect(await r.confirmedName('127.0.0.4')).toEqual({ kind: 'none' });
    expect(await r.confirmedName('127.0.0.5')).toEqual({ kind: 'temporary-failure', reason: 'timeout' });
    expect(await r.confirmedName('::1')).toEqual({ kind: 'confirmed', name: 'six.test' });
  });
});

describe.skipIf(!shouldRunWith('dnsmasq', 'dnsmasq resolver tests'))('dns resolver against dnsmasq', () => {
  let dnsmasq: ChildProcess;
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    const file = findProgram('dnsmasq') ?? findProgram('/usr/sbin/dnsmasq') ?? 'dnsmasq';
    dnsmasq = spawn(file, [
      '--keep-in-foreground', '--no-resolv', '--no-hosts', '--no-daemon', '--pid-file=', '--bind-interfaces',
      '--listen-address=127.0.0.1', `--port=${port}`, '--user=nobody',
      '--host-record=relay.dnsmasq.test,127.0.0.7,::7', '--mx-host=dnsmasq.test,relay.dnsmasq.test,5',
      '--ptr-record=7.0.0.127.in-addr.arpa,relay.dnsmasq.test', '--txt-record=dnsmasq.test,hello',
      '--local=/dnsmasq.test/',
    ], { stdio: 'ignore' });
    const r = new DnsResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 500 });
    await waitFor('dnsmasq to answer', async () => (await r.a('relay.dnsmasq.test')).kind === 'found');
  });
  afterAll(() => {
    dnsmasq.kill();
  });

  it('dns resolver reads plain records from dnsmasq', async () => {
    const r = new DnsResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 1000 });
    expect(await r.mx('dnsmasq.test')).toMatchObject({ kind: 'found', records: [{ exchange: 'relay.dnsmasq.test', priority: 5 }] });
    expect(await r.aaaa('relay.dnsmasq.test')).toMatchObject({ kind: 'found', records: ['::7'] });
    expect(await r.txt('dnsmasq.test')).toMatchObject({ kind: 'found', records: ['hello'] });
    expect(await r.confirmedName('127.0.0.7')).toEqual({ kind: 'confirmed', name: 'relay.dnsmasq.test' });
    expect(await r.a('missing.dnsmasq.test')).toEqual({ kind: 'no-such-name' });
  });
});
