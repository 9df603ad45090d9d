// The session's part in inbound policy: postmaster past every RCPT policy, the message rate at MAIL,
// early talkers, and the data rate (the listener keeps the clock; the session only answers).
import { describe, expect, it } from 'vitest';
import { replies } from '../../../src/smtp/reply.js';
import { PureDriver, TEST_OPTIONS } from '../../helpers/pure-driver.js';

const codes = (d: PureDriver) => d.lastLines().map((l) => l.split(' ').slice(0, 2).join(' '));

describe('session policy', () => {
  it('session accepts postmaster of a local domain past every RCPT policy: relay control and a refused client', () => {
    const d = new PureDriver().connect('192.0.2.9', false);
    const refused = new PureDriver();
    refused.event({ type: 'connected', client: { address: '192.0.2.9', ptr: null, mayRelay: false, refusal: replies.reverseDnsMissing('192.0.2.9') } });
    for (const driver of [d, refused]) driver.send('EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<PostMaster@example.org>\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<postmaster@remote.example>\r\n');
    expect(codes(d).slice(-3)).toEqual(['250 2.1.5', '250 2.1.5', '554 5.7.1']);
    expect(codes(refused).slice(-3)).toEqual(['250 2.1.5', '250 2.1.5', '550 5.7.25']);
  });

  it('session counts each MAIL when asked to, and a refusal is policy (no error, no transaction)', () => {
    let counted = 0;
    const hooks = { countMessage: () => (++counted > 1 ? replies.tooMuchMail('192.0.2.1') : undefined) };
    const d = new PureDriver({ ...TEST_OPTIONS, countsMessages: true, maxErrors: 1 }, hooks).connect();
    d.send('EHLO c\r\nMAIL FROM:<a@example.net>\r\nRSET\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<x@example.org>\r\n');
    // The 450 did not count as an error; the 503 did, and max_errors = 1 closes the session.
    expect(d.lastLines().slice(-4)).toEqual(['250 2.0.0 Reset OK', '450 4.7.1 Error: too much mail from 192.0.2.1', '503 5.5.1 Error: need MAIL command', '421 4.7.0 mx.test Error: too many errors']);
    expect(counted).toBe(2);
  });

  it('session does not count MAIL unless asked to', () => {
    const d = new PureDriver(TEST_OPTIONS, { countMessage: () => replies.tooMuchMail('x') }).connect().send('EHLO c\r\nMAIL FROM:<>\r\n');
    expect(codes(d).at(-1)).toBe('250 2.1.0');
  });

  it('session refuses a client that talked before the greeting with 554 5.5.0 in place of 220, and closes', () => {
    const d = new PureDriver().connect('192.0.2.1', false, undefined, true);
    expect(d.lastLines()).toEqual(['554 5.5.0 mx.test Error: SMTP protocol violation: talking before the greeting']);
    expect(d.isClosed).toBe(true);
  });

  it('session answers data arriving too slowly with 421 4.4.2, drops the message and closes', () => {
    const d = new PureDriver().connect().send('EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.org>\r\nDATA\r\nSubject: x\r\n');
    const out = d.session.handle({ type: 'data-too-slow' });
    expect(out.replies.map((r) => `${r.code} ${r.enhancedCode} ${r.lines[0]}`)).toEqual(['421 4.4.2 mx.test Error: data rate too low']);
    expect(out.actions.map((a) => a.kind)).toEqual(['abort-message', 'close']);
  });
});
