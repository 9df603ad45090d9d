import { describe, expect, it } from 'vitest';
import { clientRefusal, connectRefusal, type DnsblAnswer } from '../../../src/server/client-policy.js';
import { PureDriver, TEST_OPTIONS } from '../../helpers/pure-driver.js';

const require = { reverseDns: 'require', rejectAt: 'rcpt' } as const;
const short = (r: ReturnType<typeof clientRefusal>) => r && `${r.code} ${r.enhancedCode}`;

describe('client policy', () => {
  it.each([
    [{ kind: 'confirmed', name: 'a.test' }, undefined],
    [{ kind: 'none' }, '550 5.7.25'],
    [{ kind: 'unconfirmed', name: 'liar.test' }, '550 5.7.25'],
    [{ kind: 'temporary-failure', reason: 'timeout' }, '450 4.7.25'],
  ] as const)('client policy with reverse_dns require answers %j with %s (RFC 7372)', (name, expected) => {
    expect(short(clientRefusal('192.0.2.1', name, [], require))).toBe(expected);
  });

  it('client policy refuses nobody for reverse DNS under "log"', () => {
    expect(clientRefusal('192.0.2.1', { kind: 'none' }, [], { reverseDns: 'log', rejectAt: 'rcpt' })).toBeUndefined();
  });

  it('client policy refuses a listed client naming the list and its reason, and ignores a failed list', () => {
    const dnsbl: DnsblAnswer[] = [
      { zone: 'dead.example', kind: 'failed', reason: 'timeout' },
      { zone: 'zen.example', kind: 'listed', reason: 'spam\r\n250 OK' },
    ];
    const refusal = clientRefusal('192.0.2.1', { kind: 'confirmed', name: 'a.test' }, dnsbl, require);
    expect(refusal).toMatchObject({ code: 554, enhancedCode: '5.7.1' });
    expect(refusal?.lines).toEqual(['Service unavailable; client [192.0.2.1] blocked using zen.example; spam??250 OK']);
    expect(clientRefusal('192.0.2.1', { kind: 'off' }, [dnsbl[0] as DnsblAnswer], require)).toBeUndefined();
  });

  it('client policy tells a refusal at connect as 554, or 421 when temporary', () => {
    expect(connectRefusal({ code: 550, enhancedCode: '5.7.25', lines: ['x'] }).code).toBe(554);
    expect(connectRefusal({ code: 450, enhancedCode: '4.7.25', lines: ['x'] }).code).toBe(421);
  });
});

describe('session with a refused client', () => {
  const refusal = { code: 550, enhancedCode: '5.7.25', lines: ['no reverse DNS'] };

  it('session refuses every RCPT of a refused client but postmaster of a local domain', () => {
    const d = new PureDriver(TEST_OPTIONS);
    d.event({ type: 'connected', client: { address: '192.0.2.1', ptr: null, mayRelay: true, refusal } });
    d.send('EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<x@remote.test>\r\nRCPT TO:<PostMaster@example.org>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<postmaster@remote.test>\r\n');
    expect(d.lastLines().slice(3)).toEqual([
      '550 5.7.25 no reverse DNS',
      '550 5.7.25 no reverse DNS',
      '250 2.1.5 Recipient OK',
      '250 2.1.5 Recipient OK',
      '550 5.7.25 no reverse DNS',
    ]);
  });

  it('session tells a refusal at connect instead of the greeting and closes', () => {
    const d = new PureDriver(TEST_OPTIONS);
    d.event({ type: 'connected', client: { address: '192.0.2.1', ptr: null, mayRelay: false, refusal: { ...refusal, code: 554 }, isRefusedAtConnect: true } });
    expect(d.lastLines()).toEqual(['554 5.7.25 no reverse DNS']);
    expect(d.isClosed).toBe(true);
  });
});
