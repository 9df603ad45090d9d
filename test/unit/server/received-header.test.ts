import { describe, expect, it } from 'vitest';
import { buildLocalReceivedHeader, buildReceivedHeader, formatRfc5322Date } from '../../../src/server/received-header.js';

const base = {
  helo: 'client.example',
  ptr: 'host.example.net',
  clientAddress: '192.0.2.7',
  hostname: 'mx.test',
  protocol: 'ESMTP',
  queueId: 'ABCDEF0123456789',
  recipient: 'alice@example.org',
  date: new Date(Date.UTC(2026, 10, 22, 3, 4, 5)),
};

describe('received header', () => {
  it('received header names helo, PTR, IP, our host, protocol, id, recipient and date', () => {
    const h = buildReceivedHeader(base);
    expect(h).toBe(
      'Received: from client.example (host.example.net [192.0.2.7]) by mx.test (mta)\r\n' +
        '\twith ESMTP id ABCDEF0123456789 for <alice@example.org>;\r\n' +
        '\tSun, 22 Nov 2026 03:04:05 +0000\r\n',
    );
  });

  it('received header shows the TLS protocol and cipher before "by", as Postfix does', () => {
    const h = buildReceivedHeader({ ...base, protocol: 'ESMTPSA', tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } });
    expect(h).toBe(
      'Received: from client.example (host.example.net [192.0.2.7])\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384) by mx.test (mta)\r\n' +
        '\twith ESMTPSA id ABCDEF0123456789 for <alice@example.org>;\r\n' +
        '\tSun, 22 Nov 2026 03:04:05 +0000\r\n',
    );
  });

  it('received header marks IPv6 literals and an unknown PTR', () => {
    const h = buildReceivedHeader({ ...base, ptr: null, clientAddress: '::1', recipient: undefined });
    expect(h).toContain('(unknown [IPv6:::1])');
    expect(h).not.toContain('for <');
  });

  it('received header cannot be broken out of by a hostile HELO', () => {
    const h = buildReceivedHeader({ ...base, helo: 'x\r\nBcc: victim@example.org' });
    expect(h.split('\r\n').filter((l) => l.startsWith('Bcc'))).toEqual([]);
    expect(h.split('\r\n').every((l) => l.length <= 998)).toBe(true);
  });

  it('formatRfc5322Date pads times and uses UTC', () => {
    expect(formatRfc5322Date(new Date(Date.UTC(2027, 0, 1, 0, 0, 9)))).toBe('Fri, 1 Jan 2027 00:00:09 +0000');
  });
});

describe('local received header', () => {
  it('local received header names the submitting uid, our host, id, recipient and date', () => {
    const h = buildLocalReceivedHeader({ uid: 1000, hostname: 'mx.test', queueId: 'ABCDEF0123456789', recipient: 'bob@example.org', date: base.date });
    expect(h).toBe('Received: from local user (uid 1000) by mx.test (mta) id ABCDEF0123456789\r\n\tfor <bob@example.org>;\r\n\tSun, 22 Nov 2026 03:04:05 +0000\r\n');
  });
});
