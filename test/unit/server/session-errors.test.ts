// The session's error count: which replies count toward max_errors, the recipient overshoot, junk
// commands, the soft limit's delay, VRFY, and refused command lines (bad UTF-8, control characters).
import { describe, expect, it } from 'vitest';
import { ERROR_DELAY_MS } from '../../../src/server/session.js';
import type { SessionOptions } from '../../../src/server/session-types.js';
import { RECIPIENT_OVERSHOOT_LIMIT } from '../../../src/server/session-transaction.js';
import { replies } from '../../../src/smtp/reply.js';
import { type DriverHooks, PureDriver, TEST_OPTIONS } from '../../helpers/pure-driver.js';

const codes = (d: PureDriver) => d.lastLines().map((l) => l.split(' ').slice(0, 2).join(' '));
const repeat = (line: string, times: number) => `${line}\r\n`.repeat(times);
const rcpts = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `RCPT TO:<u${from + i}@example.org>\r\n`).join('');
const message = 'MAIL FROM:<s@example.net>\r\nRCPT TO:<a@example.org>\r\nDATA\r\nhi\r\n.\r\n';

function driver(options: Partial<SessionOptions>, hooks: DriverHooks = {}): PureDriver {
  return new PureDriver({ ...TEST_OPTIONS, ...options }, hooks).connect();
}

describe('session error count', () => {
  it('session lets a client with recipients past max_recipients go on to DATA (RFC 5321 4.5.3.1.10)', () => {
    const d = driver({ maxRecipients: 100, maxErrors: 3 }).send(`EHLO c\r\nMAIL FROM:<>\r\n${rcpts(1, 110)}DATA\r\n`);
    expect(codes(d).filter((c) => c === '250 2.1.5')).toHaveLength(100);
    expect(codes(d).filter((c) => c === '452 4.5.3')).toHaveLength(10);
    expect(codes(d).at(-1)).toBe('354 End');
    d.send('hi\r\n.\r\n');
    expect(codes(d).at(-1)).toBe('250 2.0.0');
    expect(d.isClosed).toBe(false);
  });

  it(`session counts a 452 overshoot as an error only past ${RECIPIENT_OVERSHOOT_LIMIT} of them`, () => {
    const d = driver({ maxRecipients: 1, maxErrors: 2 }).send(`EHLO c\r\nMAIL FROM:<>\r\n${rcpts(0, 1 + RECIPIENT_OVERSHOOT_LIMIT + 1)}`);
    expect(d.isClosed).toBe(false);
    d.send(rcpts(5000, 1));
    expect(codes(d).slice(-2)).toEqual(['452 4.5.3', '421 4.7.0']);
    expect(d.isClosed).toBe(true);
  });

  it('session starts the overshoot allowance afresh with each transaction', () => {
    const d = driver({ maxRecipients: 1, maxErrors: 1 }).send('EHLO c\r\n');
    for (let i = 0; i < 2; i += 1) d.send(`MAIL FROM:<>\r\n${rcpts(0, 1 + RECIPIENT_OVERSHOOT_LIMIT)}RSET\r\n`);
    expect(d.isClosed).toBe(false);
  });

  it.each([
    ['relay denied, 554 5.7.1', 'MAIL FROM:<>\r\nRCPT TO:<x@remote.example>\r\nRSET\r\n', '554 5.7.1'],
    ['a declared SIZE over the limit, 552 5.3.4', 'MAIL FROM:<> SIZE=10001\r\n', '552 5.3.4'],
    ['VRFY refused, 502 5.5.1', 'VRFY alice\r\n', '502 5.5.1'],
    ['EXPN refused, 502 5.5.1', 'EXPN staff\r\n', '502 5.5.1'],
  ])('session does not count %s', (_what, lines, refusal) => {
    const d = driver({ maxErrors: 1 }).send('EHLO c\r\n').send(lines.repeat(5));
    expect(codes(d)).toContain(refusal);
    expect(codes(d)).not.toContain('421 4.7.0');
    expect(d.isClosed).toBe(false);
  });

  it('session does not count the recipient refusals of the sink (550 5.1.1, 451 4.3.0)', () => {
    const hooks = { checkRecipient: (a: string) => (a.startsWith('x') ? replies.localError() : replies.noSuchUser(a)) };
    const d = driver({ maxErrors: 1 }, hooks).send('EHLO c\r\nMAIL FROM:<>\r\n');
    d.send(repeat('RCPT TO:<nobody@example.org>', 3) + repeat('RCPT TO:<x@example.org>', 3));
    expect(codes(d).slice(-6)).toEqual([...Array(3).fill('550 5.1.1'), ...Array(3).fill('451 4.3.0')]);
    expect(d.isClosed).toBe(false);
  });

  it('session does not count a message refused for its size', () => {
    const d = driver({ maxErrors: 1 }, { dataOutcome: () => ({ kind: 'too-big' }) }).send('EHLO c\r\n');
    d.send(message.repeat(3));
    expect(codes(d).filter((c) => c === '552 5.3.4')).toHaveLength(3);
    expect(d.isClosed).toBe(false);
  });

  it('session does not count a BDAT refused because the message cannot be opened', () => {
    const d = driver({ maxErrors: 1 }).send('EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.org>\r\n');
    const out = d.session.handle({ type: 'line', line: 'BDAT 2' });
    expect(out.actions.map((a) => a.kind)).toEqual(['open-message']);
    d.event({ type: 'message-open-failed', reply: replies.insufficientStorage() });
    d.event({ type: 'chunk-received', bytes: 2 });
    expect(codes(d).at(-1)).toBe('452 4.3.1');
    expect(d.isClosed).toBe(false);
  });

  it.each([
    ['an unknown command', 'FROB', '500 5.5.2'],
    ['a HELO without a name', 'HELO', '501 5.5.4'],
    ['RSET with arguments', 'RSET now', '501 5.5.4'],
    ['RCPT before MAIL', 'RCPT TO:<a@example.org>', '503 5.5.1'],
    ['a MAIL syntax error', 'MAIL FROM:alice', '501 5.1.7'],
    ['an unknown MAIL parameter', 'MAIL FROM:<> FROB=1', '555 5.5.4'],
    ['disagreeing MAIL parameters', 'MAIL FROM:<> SIZE=1 SIZE=2', '501 5.5.4'],
    ['a UTF-8 address without SMTPUTF8', 'MAIL FROM:<jörg@example.org>', '553 5.6.7'],
    ['STARTTLS, never advertised', 'STARTTLS', '502 5.5.1'],
    ['a control character', 'NOOP \x1b[2J', '500 5.5.2'],
    ['bad UTF-8', 'NOOP caf\udce9', '500 5.5.2'],
  ])('session counts %s as an error', (_what, line, refusal) => {
    const d = driver({ maxErrors: 2 }).send('EHLO c\r\n').send(repeat(line, 2));
    expect(codes(d).slice(-3)).toEqual([refusal, refusal, '421 4.7.0']);
    expect(d.isClosed).toBe(true);
  });

  it('session counts a bare LF or an over-long line in DATA as an error', () => {
    for (const kind of ['bare-linefeed', 'line-too-long'] as const) {
      const d = driver({ maxErrors: 2 }, { dataOutcome: () => ({ kind }) }).send('EHLO c\r\n').send(message.repeat(2));
      expect(codes(d).at(-1), kind).toBe('421 4.7.0');
    }
  });

  it('session forgives earlier errors once a message is stored, as Postfix does', () => {
    const d = driver({ maxErrors: 3 }).send('EHLO c\r\nA\r\nB\r\n').send(message).send('C\r\nD\r\n');
    expect(d.isClosed).toBe(false);
    d.send('E\r\n');
    expect(codes(d).at(-1)).toBe('421 4.7.0');
  });
});

describe('session junk commands', () => {
  it('session counts each junk command past max_junk_commands as an error', () => {
    const d = driver({ maxJunkCommands: 4, maxErrors: 2 }).send('EHLO c\r\nNOOP\r\nRSET\r\nHELP\r\n');
    expect(d.isClosed).toBe(false);
    d.send('VRFY a\r\n');
    expect(codes(d).at(-1)).toBe('502 5.5.1');
    expect(d.isClosed).toBe(false);
    d.send('HELO c\r\n');
    expect(codes(d).slice(-2)).toEqual(['250 mx.test', '421 4.7.0']);
  });

  it('session does not count MAIL, RCPT, DATA or QUIT as junk', () => {
    const d = driver({ maxJunkCommands: 1, maxErrors: 1 }).send('EHLO c\r\n').send(message.repeat(3));
    expect(codes(d).filter((c) => c === '250 2.0.0')).toHaveLength(3);
    expect(d.isClosed).toBe(false);
  });

  it('session forgives junk commands once a message is stored', () => {
    const d = driver({ maxJunkCommands: 2, maxErrors: 1 }).send('EHLO c\r\nNOOP\r\n').send(message).send('NOOP\r\nNOOP\r\n');
    expect(d.isClosed).toBe(false);
    d.send('NOOP\r\n');
    expect(codes(d).at(-1)).toBe('421 4.7.0');
  });

  it('session allows 100 junk commands by default', () => {
    const d = driver({ maxErrors: 1 }).send(repeat('NOOP', 100));
    expect(d.isClosed).toBe(false);
    d.send('NOOP\r\n');
    expect(d.isClosed).toBe(true);
  });
});

describe('session soft error limit', () => {
  it('session asks the listener to delay every reply once soft_error_limit errors are made', () => {
    const d = driver({ softErrorLimit: 2, maxErrors: 4 }).send('EHLO c\r\nA\r\nB\r\n');
    expect(d.delaysMs).toEqual([0, 0, 0, 0]);
    d.send('NOOP\r\nC\r\nD\r\n');
    expect(codes(d).slice(-4)).toEqual(['250 2.0.0', '500 5.5.2', '500 5.5.2', '421 4.7.0']);
    expect(d.delaysMs.slice(-4)).toEqual([ERROR_DELAY_MS, ERROR_DELAY_MS, ERROR_DELAY_MS, 0]);
  });

  it('session delays the reply that completes an action too', () => {
    const d = driver({ softErrorLimit: 1, maxErrors: 5 }).send('EHLO c\r\nA\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.org>\r\n');
    expect(codes(d).at(-1)).toBe('250 2.1.5');
    expect(d.delaysMs.at(-1)).toBe(ERROR_DELAY_MS);
  });

  it('session stops delaying with the reply that a message is stored', () => {
    const d = driver({ softErrorLimit: 1, maxErrors: 5 }).send('EHLO c\r\nA\r\n').send(message).send('NOOP\r\n');
    expect(codes(d).slice(-3)).toEqual(['354 End', '250 2.0.0', '250 2.0.0']);
    expect(d.delaysMs.slice(-3)).toEqual([ERROR_DELAY_MS, 0, 0]);
  });

  it('session delays nothing before 10 errors by default', () => {
    const d = driver({ maxErrors: 20 }).send(repeat('FROB', 10));
    expect(d.delaysMs.every((ms) => ms === 0)).toBe(true);
    d.send('NOOP\r\n');
    expect(d.delaysMs.at(-1)).toBe(ERROR_DELAY_MS);
  });
});

describe('session VRFY', () => {
  it('session answers VRFY with 252 2.5.0 when vrfy is "252", and its missing argument with 501', () => {
    const d = driver({ vrfy: '252', maxErrors: 1 }).send('EHLO c\r\nVRFY alice\r\nVRFY alice@example.org\r\nEXPN staff\r\n');
    expect(codes(d).slice(-3)).toEqual(['252 2.5.0', '252 2.5.0', '502 5.5.1']);
    expect(d.isClosed).toBe(false);
    d.send('VRFY\r\n');
    expect(codes(d).slice(-2)).toEqual(['501 5.5.4', '421 4.7.0']);
  });

  it('session refuses VRFY with 502 5.5.1 by default', () => {
    const d = driver({}).send('VRFY alice\r\nVRFY\r\n');
    expect(codes(d).slice(-2)).toEqual(['502 5.5.1', '502 5.5.1']);
  });
});

describe('session command lines', () => {
  it.each([
    ['HELO with a NUL', 'HELO a\x00b', '500 5.5.2 Error: bad syntax: control character in command'],
    ['EHLO with an escape sequence', 'EHLO \x1b[31mred', '500 5.5.2 Error: bad syntax: control character in command'],
    ['EHLO with a bare CR', 'EHLO a\rb', '500 5.5.2 Error: bad syntax: control character in command'],
    ['HELO with Latin-1', 'HELO caf\udce9', '500 5.5.2 Error: bad UTF-8 syntax'],
  ])('session refuses %s and keeps its earlier HELO name', (_what, line, refusal) => {
    let helo = '';
    const d = driver({}).send('EHLO good.example\r\n');
    d.send(`${line}\r\n`);
    expect(d.lastLines().at(-1)).toBe(refusal);
    d.send('MAIL FROM:<>\r\nRCPT TO:<a@example.org>\r\n');
    const open = d.session.handle({ type: 'line', line: 'DATA' }).actions.find((a) => a.kind === 'open-message');
    if (open?.kind === 'open-message') helo = open.envelope.client.helo;
    expect(helo).toBe('good.example');
  });

  it('session takes a trailing TAB and UTF-8 in NOOP', () => {
    const d = driver({}).send('NOOP é\t\r\nQUIT \t\r\n');
    expect(codes(d).slice(-2)).toEqual(['250 2.0.0', '221 2.0.0']);
  });
});
