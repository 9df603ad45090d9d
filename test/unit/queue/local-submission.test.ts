import { describe, expect, it } from 'vitest';
import { prepareSubmission, type SubmissionFacts } from '../../../src/queue/local-submission.js';
import type { DropRequest } from '../../../src/queue/maildrop-file.js';

const facts: SubmissionFacts = {
  userName: 'alice',
  isTrusted: false,
  hostname: 'mx.test',
  date: 'Mon, 30 Nov 2026 12:00:00 +0000',
  messageId: '<id1@mx.test>',
  maxMessageBytes: 10_000,
};
const request: DropRequest = { sender: null, fullName: null, recipients: ['bob'], extractRecipients: false };
const prepare = (message: string, r: Partial<DropRequest> = {}, f: Partial<SubmissionFacts> = {}) =>
  prepareSubmission({ ...request, ...r }, Buffer.from(message, 'latin1'), { ...facts, ...f });

describe('local submission', () => {
  it('local submission qualifies addresses and adds From, Date and Message-ID with CRLF line ends', () => {
    expect(prepare('Subject: x\n\nhello\n')).toEqual({
      ok: true,
      reversePath: 'alice@mx.test',
      recipients: ['bob@mx.test'],
      bodyType: '7bit',
      data: Buffer.from('Subject: x\r\nFrom: <alice@mx.test>\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <id1@mx.test>\r\n\r\nhello\r\n'),
      isSenderIgnored: false,
    });
  });

  it('local submission keeps the fields the caller gave', () => {
    const result = prepare('From: Me <me@x>\r\nDate: yesterday\r\nMessage-Id: <m@x>\r\n\r\nhi\r\n');
    expect(result.ok && result.data.toString()).toBe('From: Me <me@x>\r\nDate: yesterday\r\nMessage-Id: <m@x>\r\n\r\nhi\r\n');
  });

  it('local submission honours -f and -F for a trusted user only', () => {
    const trusted = prepare('\nx\n', { sender: 'boss@example.net', fullName: 'Dr. Boss' }, { isTrusted: true });
    expect(trusted).toMatchObject({ ok: true, reversePath: 'boss@example.net', isSenderIgnored: false });
    expect(trusted.ok && trusted.data.toString()).toContain('From: "Dr. Boss" <boss@example.net>\r\n');
    expect(prepare('\nx\n', { sender: 'boss@example.net' })).toMatchObject({ ok: true, reversePath: 'alice@mx.test', isSenderIgnored: true });
    expect(prepare('\nx\n', { sender: '<>' }, { isTrusted: true })).toMatchObject({ ok: true, reversePath: '' });
  });

  it('local submission takes -t recipients from To, Cc and Bcc, adds them to the command line ones and drops Bcc', () => {
    const result = prepare('To: a@x\nCc: B <b@x>\nBcc: c\nSubject: s\n\nbody\n', { extractRecipients: true });
    expect(result).toMatchObject({ ok: true, recipients: ['bob@mx.test', 'a@x', 'b@x', 'c@mx.test'] });
    expect(result.ok && result.data.toString()).not.toContain('Bcc');
  });

  it('local submission encodes a non-ASCII full name and marks 8-bit and UTF-8 messages', () => {
    const named = prepare('\n\xe9t\xe9\n', { fullName: 'Zoë' });
    expect(named).toMatchObject({ ok: true, bodyType: '8bitmime' });
    expect(named.ok && named.data.toString()).toContain('From: =?UTF-8?B?Wm/Dqw==?= <alice@mx.test>');
    expect(prepare('\nx\n', { recipients: ['zoë@x'] })).toMatchObject({ ok: true, bodyType: 'smtputf8' });
  });

  it('local submission refuses no recipients, bad addresses and oversized messages', () => {
    expect(prepare('\nx\n', { recipients: [] })).toEqual({ ok: false, kind: 'usage', problem: 'no recipients given' });
    expect(prepare('Subject: s\n\nx\n', { recipients: [], extractRecipients: true })).toEqual({ ok: false, kind: 'data', problem: 'no recipient addresses found in the message header' });
    expect(prepare('\nx\n', { recipients: ['a b@x'] })).toEqual({ ok: false, kind: 'data', problem: 'invalid recipient address "a b@x"' });
    expect(prepare(`\n${'x'.repeat(20_000)}\n`)).toEqual({ ok: false, kind: 'data', problem: 'message is larger than 10000 bytes' });
  });
});
