// What cli/wiring.ts derives from the config: relay control's network matcher and the supervisor's rate settings.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import { networkMatcher, supervisorSettings } from '../../../src/cli/wiring.js';

describe('wiring', () => {
  it('networkMatcher matches IPv4 and IPv6 clients, and an IPv4-mapped IPv6 client (::ffff:a.b.c.d) against IPv4 networks', () => {
    const mayRelay = networkMatcher(['192.0.2.0/24', '127.0.0.1/32', '2001:db8::/32']);
    expect(['192.0.2.77', '::ffff:192.0.2.77', '::FFFF:127.0.0.1', '2001:db8::25'].map(mayRelay)).toEqual([true, true, true, true]);
    expect(['192.0.3.1', '::ffff:192.0.3.1', '::1', '2001:db9::1', '::ffff:c000:0201:1', 'not an address', ''].map(mayRelay)).toEqual([false, false, false, false, false, false, false]);
    // An IPv6 network never matches an IPv4 client (nor the reverse): kinds are compared first.
    expect(networkMatcher(['::/0'])('192.0.2.1')).toBe(false);
    expect(networkMatcher([])('127.0.0.1')).toBe(false);
  });

  it('supervisorSettings exempts relay_networks from the rates and carries the refusal as SMTP bytes', () => {
    const config = parseConfig('hostname = "mx.test";\nserver = { relay_networks = [ "10.0.0.0/8" ]; max_connection_rate = 5; max_message_rate = 7; };\n', 'test.conf');
    const settings = supervisorSettings(config);
    expect([settings.maxConnectionRate, settings.maxMessageRate]).toEqual([5, 7]);
    expect([settings.isRateExempt('10.1.2.3'), settings.isRateExempt('::ffff:10.1.2.3'), settings.isRateExempt('192.0.2.1')]).toEqual([true, true, false]);
    expect(settings.connectionRateExceeded.toString()).toBe('421 4.7.0 mx.test Error: too many connections from you\r\n');
  });
});
