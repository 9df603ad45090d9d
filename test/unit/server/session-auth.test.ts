// STARTTLS, AUTH and submission rules of the pure session, driven by bytes as a client sends them.
import { describe, expect, it } from 'vitest';
import type { AuthVerdict } from '../../../src/server/authenticator.js';
import { Session } from '../../../src/server/session.js';
import type { SessionOptions } from '../../../src/server/session-types.js';
import type { ListenerInfo } from '../../../src/server/session-types.js';
import { type DriverHooks, PureDriver, TEST_OPTIONS } from '../../helpers/pure-driver.js';

const TLS_OPTIONS: SessionOptions = { ...TEST_OPTIONS, isTlsAvailable: true, isAuthAvailable: true };
const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };
const SMTP: ListenerInfo = { mode: 'smtp', tls: null };
const SUBMISSION: ListenerInfo = { mode: 'submission', tls: null };
const SUBMISSIONS: ListenerInfo = { mode: 'submissions', tls: TLS };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const plain = (login: string, password: string) => b64(`\0${login}\0${password}`);

const ALICE: AuthVerdict = { kind: 'accepted', login: 'alice', addresses: ['alice@example.org', '@example.net'] };
const users: DriverHooks = {
  verify: (login, password) => (login === 'alice' && password === 'secret' ? ALICE : { kind: 'rejected', reason: 'bad-password', delayMs: 0 }),
};

const codes = (d: PureDriver) => d.lastLines().map((l) => l.split(' ').slice(0, 2).join(' '));
const last = (d: PureDriver) => codes(d).at(-1);

function driver(listener: ListenerInfo = SMTP, options: SessionOptions = TLS_OPTIONS, hooks: DriverHooks = users, address = '192.0.2.1'): PureDriver {
  return new PureDriver(options, hooks).connect(address, false, listener);
}

/** A session that did STARTTLS and EHLO again. */
function secured(listener: ListenerInfo = SMTP, hooks: DriverHooks = users): PureDriver {
  // Anything sent in the same packet as STARTTLS is dropped, so EHLO goes in its own.
  return driver(listener, TLS_OPTIONS, hooks).send('EHLO c\r\nSTARTTLS\r\n').send('EHLO c\r\n');
}

describe('session STARTTLS', () => {
  it('session offers STARTTLS but not AUTH before TLS, and AUTH but not STARTTLS after', () => {
    const d = driver().send('EHLO c\r\n');
    expect(d.replies[1]?.lines).toContain('STARTTLS');
    expect(d.replies[1]?.lines.some((l) => l.startsWith('AUTH'))).toBe(false);
    d.send('STARTTLS\r\n').send('EHLO c\r\n');
    expect(d.replies.at(-1)?.lines).toContain('AUTH PLAIN LOGIN');
    expect(d.replies.at(-1)?.lines).not.toContain('STARTTLS');
  });

  it('session offers neither without a certificate, and answers STARTTLS with 502', () => {
    const d = driver(SMTP, TEST_OPTIONS).send('EHLO c\r\nSTARTTLS\r\nAUTH PLAIN\r\n');
    expect(d.replies[1]?.lines.filter((l) => /STARTTLS|AUTH/.test(l))).toEqual([]);
    expect(codes(d).slice(2)).toEqual(['502 5.5.1', '502 5.5.1']);
  });

  it('session answers STARTTLS with 220 2.0.0, then wants EHLO again', () => {
    const d = driver().send('EHLO c\r\nMAIL FROM:<s@example.net>\r\nSTARTTLS\r\n');
    expect(codes(d).at(-1)).toBe('220 2.0.0');
    d.send('MAIL FROM:<s@example.net>\r\n');
    expect(last(d)).toBe('503 5.5.1');
    d.send('EHLO c\r\nMAIL FROM:<s@example.net>\r\n');
    expect(last(d)).toBe('250 2.1.0');
  });

  it('session drops what was pipelined after STARTTLS: the RSET is never answered (CVE-2011-0411)', () => {
    const d = driver().send('EHLO c\r\n');
    const before = d.replies.length;
    d.send('STARTTLS\r\nRSET\r\n');
    expect(d.lastLines().slice(before)).toEqual(['220 2.0.0 Ready to start TLS']);
    expect(d.discardedAtStartTls).toEqual([6]);
    d.send('NOOP\r\n');
    expect(d.lastLines().at(-1)).toBe('250 2.0.0 OK');
  });

  it('session refuses STARTTLS before EHLO, with arguments, and once TLS is active', () => {
    expect(last(driver().send('STARTTLS\r\n'))).toBe('503 5.5.1');
    expect(last(driver().send('EHLO c\r\nSTARTTLS now\r\n'))).toBe('501 5.5.4');
    expect(last(secured().send('STARTTLS\r\n'))).toBe('503 5.5.1');
    expect(last(driver(SUBMISSIONS).send('EHLO c\r\nSTARTTLS\r\n'))).toBe('503 5.5.1');
  });

  it('session waits for the handshake: tls-started ends the wait with no reply', () => {
    const s = new Session(TLS_OPTIONS);
    s.handle({ type: 'connected', client: { address: '192.0.2.1', ptr: null, mayRelay: false } });
    s.handle({ type: 'line', line: 'EHLO c' });
    expect(s.handle({ type: 'line', line: 'STARTTLS' }).actions).toEqual([{ kind: 'start-tls' }]);
    expect(s.handle({ type: 'tls-started', tls: TLS })).toEqual({ replies: [], actions: [], delayMs: 0 });
  });
});

describe('session AUTH', () => {
  it('session AUTH PLAIN with an initial response answers 235 2.7.0 and asks the authenticator once', () => {
    const d = secured().send(`AUTH PLAIN ${plain('alice', 'secret')}\r\n`);
    expect(d.lastLines().at(-1)).toBe('235 2.7.0 Authentication successful');
    expect(d.attempts).toEqual([{ login: 'alice', password: 'secret' }]);
  });

  it('session AUTH PLAIN without one sends an empty 334 and takes the next line as the response', () => {
    const d = secured().send('AUTH PLAIN\r\n');
    expect(d.lastLines().at(-1)).toBe('334 ');
    expect(d.session.isSaslOpen).toBe(true);
    d.send(`${plain('alice', 'secret')}\r\n`);
    expect(last(d)).toBe('235 2.7.0');
    expect(d.session.isSaslOpen).toBe(false);
  });

  it('session AUTH LOGIN asks for the user name, then the password', () => {
    const d = secured().send('AUTH LOGIN\r\n');
    expect(d.lastLines().at(-1)).toBe('334 VXNlcm5hbWU6');
    d.send(`${b64('alice')}\r\n`);
    expect(d.lastLines().at(-1)).toBe('334 UGFzc3dvcmQ6');
    d.send(`${b64('secret')}\r\n`);
    expect(last(d)).toBe('235 2.7.0');
    expect(last(secured().send(`AUTH LOGIN ${b64('alice')}\r\n${b64('secret')}\r\n`))).toBe('235 2.7.0');
  });

  it('session answers wrong credentials with 535 5.7.8 and counts them as errors', () => {
    const d = secured().send(`AUTH PLAIN ${plain('alice', 'wrong')}\r\n`);
    expect(last(d)).toBe('535 5.7.8');
    const strict = new PureDriver({ ...TLS_OPTIONS, maxErrors: 2 }, users).connect('192.0.2.1', false, SMTP);
    strict.send('EHLO c\r\nSTARTTLS\r\n').send(`EHLO c\r\nAUTH PLAIN ${plain('a', 'b')}\r\nAUTH PLAIN ${plain('a', 'c')}\r\n`);
    expect(codes(strict).slice(-2)).toEqual(['535 5.7.8', '421 4.7.0']);
  });

  it('session holds a 535 for the delay the authenticator asks', () => {
    const d = secured(SMTP, { verify: () => ({ kind: 'rejected', reason: 'unknown-user', delayMs: 3000 }) });
    d.send(`AUTH PLAIN ${plain('x', 'y')}\r\n`);
    expect(d.delaysMs.at(-1)).toBe(3000);
  });

  it('session answers a locked-out address and a broken database with 454 4.7.0', () => {
    expect(last(secured(SMTP, { verify: () => ({ kind: 'locked-out' }) }).send(`AUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('454 4.7.0');
    expect(last(secured(SMTP, { verify: () => ({ kind: 'unavailable', reason: 'disk' }) }).send(`AUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('454 4.7.0');
  });

  it('session ends an exchange on *, bad base64 or a malformed PLAIN message without asking the authenticator', () => {
    const d = secured().send('AUTH PLAIN\r\n*\r\nAUTH PLAIN !!!\r\nAUTH LOGIN\r\n%%%\r\n');
    d.send(`AUTH PLAIN ${b64('alice\0secret')}\r\nAUTH PLAIN ${b64('bob\0alice\0secret')}\r\n`);
    expect(codes(d).slice(-6)).toEqual(['501 5.7.0', '501 5.5.2', '334 VXNlcm5hbWU6', '501 5.5.2', '501 5.5.2', '535 5.7.8']);
    expect(d.attempts).toEqual([]);
    expect(d.session.isSaslOpen).toBe(false);
  });

  it('session refuses AUTH without TLS with 538 5.7.11, on submission with 530 5.7.0', () => {
    expect(last(driver().send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('538 5.7.11');
    expect(last(driver(SUBMISSION).send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('530 5.7.0');
  });

  it('session offers AUTH in the clear to loopback clients only when allowed, and never on submission', () => {
    const options = { ...TLS_OPTIONS, allowPlaintextAuthOnLoopback: true };
    const loopback = driver(SMTP, options, users, '127.0.0.1').send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`);
    expect(loopback.replies[1]?.lines).toContain('AUTH PLAIN LOGIN');
    expect(last(loopback)).toBe('235 2.7.0');
    expect(last(driver(SMTP, options, users, '192.0.2.1').send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('538 5.7.11');
    expect(last(driver(SUBMISSION, options, users, '127.0.0.1').send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('530 5.7.0');
  });

  it('session refuses AUTH before EHLO, twice, inside a transaction, and unknown mechanisms', () => {
    expect(last(driver(SUBMISSIONS).send(`HELO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('503 5.5.1');
    const d = driver(SUBMISSIONS).send(`EHLO c\r\nAUTH CRAM-MD5\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`);
    expect(codes(d).slice(-3)).toEqual(['504 5.5.4', '235 2.7.0', '503 5.5.1']);
    expect(last(secured().send(`MAIL FROM:<a@example.net>\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`))).toBe('503 5.5.1');
  });

  it('session forgets the login at STARTTLS (RFC 3207 4.2)', () => {
    const options = { ...TLS_OPTIONS, allowPlaintextAuthOnLoopback: true };
    const d = driver(SMTP, options, users, '127.0.0.1').send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\nSTARTTLS\r\n`).send('EHLO c\r\n');
    d.send('MAIL FROM:<alice@example.org>\r\nRCPT TO:<x@remote.example>\r\n');
    expect(last(d)).toBe('554 5.7.1');
  });
});

describe('session submission', () => {
  it('session on submission wants STARTTLS, then AUTH, before MAIL (530 5.7.0)', () => {
    const d = driver(SUBMISSION).send('EHLO c\r\nMAIL FROM:<alice@example.org>\r\n');
    expect(d.lastLines().at(-1)).toBe('530 5.7.0 Must issue a STARTTLS command first');
    d.send('STARTTLS\r\n').send('EHLO c\r\nMAIL FROM:<alice@example.org>\r\n');
    expect(d.lastLines().at(-1)).toBe('530 5.7.0 Authentication required');
    d.send(`AUTH PLAIN ${plain('alice', 'secret')}\r\nMAIL FROM:<alice@example.org>\r\n`);
    expect(last(d)).toBe('250 2.1.0');
  });

  it('session on submissions (implicit TLS) wants AUTH before MAIL', () => {
    const d = driver(SUBMISSIONS).send('EHLO c\r\n');
    expect(d.replies[1]?.lines).toContain('AUTH PLAIN LOGIN');
    expect(d.replies[1]?.lines).not.toContain('STARTTLS');
    d.send('MAIL FROM:<alice@example.org>\r\n');
    expect(last(d)).toBe('530 5.7.0');
  });

  it('session lets a user send only as their addresses, never as the null sender (553 5.7.1)', () => {
    const d = driver(SUBMISSIONS).send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`);
    d.send('MAIL FROM:<mallory@example.org>\r\nMAIL FROM:<>\r\nMAIL FROM:<ALICE@Example.ORG>\r\nRSET\r\nMAIL FROM:<anyone@example.net>\r\n');
    expect(codes(d).slice(-5)).toEqual(['553 5.7.1', '553 5.7.1', '250 2.1.0', '250 2.0.0', '250 2.1.0']);
    expect(d.lastLines().at(-5)).toBe('553 5.7.1 <mallory@example.org>: Sender address rejected: not owned by user alice');
  });

  it('session lets a logged-in user relay to any domain, with AUTH= on MAIL', () => {
    const d = driver(SUBMISSIONS).send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`);
    d.send('MAIL FROM:<alice@example.org> AUTH=<>\r\nRCPT TO:<bob@remote.example>\r\n');
    expect(codes(d).slice(-2)).toEqual(['250 2.1.0', '250 2.1.5']);
  });

  it('session names the protocol ESMTPS, ESMTPSA or UTF8SMTPSA for the Received header (RFC 3848)', () => {
    const protocolAfter = (d: PureDriver, mail: string) => {
      d.send(`${mail}\r\nRCPT TO:<a@example.org>\r\n`);
      const open = d.session.handle({ type: 'line', line: 'DATA' }).actions.find((a) => a.kind === 'open-message');
      return open?.kind === 'open-message' ? open.protocol : undefined;
    };
    expect(protocolAfter(secured(), 'MAIL FROM:<s@example.net>')).toBe('ESMTPS');
    const d = driver(SUBMISSIONS).send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`);
    expect(protocolAfter(d, 'MAIL FROM:<alice@example.org>')).toBe('ESMTPSA');
    const u = driver(SUBMISSIONS).send(`EHLO c\r\nAUTH PLAIN ${plain('alice', 'secret')}\r\n`);
    expect(protocolAfter(u, 'MAIL FROM:<alice@example.org> SMTPUTF8')).toBe('UTF8SMTPSA');
  });

  it('session on an smtp port still takes mail for local domains without AUTH', () => {
    expect(last(secured().send('MAIL FROM:<s@example.net>\r\nRCPT TO:<a@example.org>\r\n'))).toBe('250 2.1.5');
    expect(last(driver().send('EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.org>\r\n'))).toBe('250 2.1.5');
  });
});
