// Behaviours of the pure session that dialogues cannot show: limits, timeouts, shutdown, outcomes.
import { describe, expect, it } from 'vitest';
import { replies } from '../../../src/smtp/reply.js';
import { PureDriver, TEST_OPTIONS } from '../../helpers/pure-driver.js';

const codes = (d: PureDriver) => d.lastLines().map((l) => l.split(' ').slice(0, 2).join(' '));
const transaction = 'EHLO c.example\r\nMAIL FROM:<s@example.net>\r\nRCPT TO:<a@example.org>\r\n';

describe('session', () => {
  it('session greets with 220 and our hostname', () => {
    const d = new PureDriver().connect();
    expect(d.lastLines()).toEqual(['220 mx.test ESMTP mta']);
  });

  it('session advertises every extension it implements in EHLO', () => {
    const d = new PureDriver().connect().send('EHLO c.example\r\n');
    expect(d.replies[1]?.lines).toEqual([
      'mx.test Hello [192.0.2.1]',
      'PIPELINING',
      'SIZE 10000',
      '8BITMIME',
      'ENHANCEDSTATUSCODES',
      'SMTPUTF8',
      'CHUNKING',
    ]);
  });

  it('session refuses RCPT past max_recipients with 452 4.5.3', () => {
    const rcpts = Array.from({ length: 6 }, (_, i) => `RCPT TO:<u${i}@example.org>\r\n`).join('');
    const d = new PureDriver().connect().send(`EHLO c\r\nMAIL FROM:<>\r\n${rcpts}`);
    expect(codes(d).slice(-2)).toEqual(['250 2.1.5', '452 4.5.3']);
  });

  it('session accepts the same recipient twice but delivers once', () => {
    let envelopeRecipients: readonly string[] = [];
    const d = new PureDriver().connect();
    d.send('EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<a@example.org>\r\n');
    const out = d.session.handle({ type: 'line', line: 'DATA' });
    const open = out.actions.find((a) => a.kind === 'open-message');
    if (open?.kind === 'open-message') envelopeRecipients = open.envelope.recipients;
    expect(envelopeRecipients).toEqual(['a@example.org']);
  });

  it('session relays for clients in relay_networks only', () => {
    const denied = new PureDriver().connect('192.0.2.9', false).send(`EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@remote.example>\r\n`);
    const allowed = new PureDriver().connect('127.0.0.1', true).send(`EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<x@remote.example>\r\n`);
    expect(codes(denied).at(-1)).toBe('554 5.7.1');
    expect(codes(allowed).at(-1)).toBe('250 2.1.5');
  });

  it('session passes the sink refusal of a recipient to the client', () => {
    const d = new PureDriver(TEST_OPTIONS, { checkRecipient: (a) => replies.noSuchUser(a) }).connect();
    d.send(transaction);
    expect(codes(d).at(-1)).toBe('550 5.1.1');
    d.send('DATA\r\n');
    expect(codes(d).at(-1)).toBe('503 5.5.1');
  });

  it('session answers each data outcome with its own reply', () => {
    const outcomes = [
      [{ kind: 'too-big' }, '552 5.3.4'],
      [{ kind: 'bare-linefeed' }, '550 5.6.0'],
      [{ kind: 'line-too-long' }, '500 5.5.2'],
      [{ kind: 'failed', reply: replies.insufficientStorage() }, '452 4.3.1'],
      [{ kind: 'stored', queueId: 'Q1' }, '250 2.0.0'],
    ] as const;
    for (const [outcome, want] of outcomes) {
      const d = new PureDriver(TEST_OPTIONS, { dataOutcome: () => outcome }).connect();
      d.send(`${transaction}DATA\r\nhi\r\n.\r\n`);
      expect(codes(d).at(-1)).toBe(want);
      // The transaction is over either way: a new MAIL is accepted.
      d.send('MAIL FROM:<>\r\n');
      expect(codes(d).at(-1)).toBe('250 2.1.0');
    }
  });

  it('session refuses a declared SIZE over the limit with 552 5.3.4', () => {
    const d = new PureDriver().connect().send('EHLO c\r\nMAIL FROM:<> SIZE=10001\r\nMAIL FROM:<> SIZE=10000\r\n');
    expect(codes(d).slice(-2)).toEqual(['552 5.3.4', '250 2.1.0']);
  });

  it('session refuses ESMTP parameters after HELO', () => {
    const d = new PureDriver().connect().send('HELO c\r\nMAIL FROM:<> SIZE=10\r\n');
    expect(codes(d).at(-1)).toBe('555 5.5.4');
  });

  it('session takes UTF-8 addresses only with SMTPUTF8', () => {
    const d = new PureDriver().connect().send('EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<jörg@example.org>\r\nRSET\r\n');
    expect(codes(d).slice(-2)).toEqual(['553 5.6.7', '250 2.0.0']);
    d.send('MAIL FROM:<> SMTPUTF8\r\nRCPT TO:<jörg@example.org>\r\n');
    expect(codes(d).at(-1)).toBe('250 2.1.5');
  });

  it('session closes with 421 4.7.0 after max_errors bad commands', () => {
    const d = new PureDriver({ ...TEST_OPTIONS, maxErrors: 3 }).connect().send('A\r\nB\r\nC\r\nNOOP\r\n');
    expect(codes(d)).toEqual(['220 mx.test', '500 5.5.2', '500 5.5.2', '500 5.5.2', '421 4.7.0']);
    expect(d.isClosed).toBe(true);
  });

  it('session answers a timeout with 421 4.4.2 and closes', () => {
    const d = new PureDriver().connect();
    d.event({ type: 'timeout' });
    expect(codes(d).at(-1)).toBe('421 4.4.2');
    expect(d.isClosed).toBe(true);
  });

  it('session sends 421 4.3.2 at once to an idle session on shutdown', () => {
    const d = new PureDriver().connect().send('EHLO c\r\n');
    d.event({ type: 'shutdown' });
    expect(codes(d).at(-1)).toBe('421 4.3.2');
    expect(d.isClosed).toBe(true);
  });

  it('session lets a message in DATA finish before the shutdown 421', () => {
    const d = new PureDriver().connect().send(`${transaction}DATA\r\nSubject: x\r\n`);
    d.event({ type: 'shutdown' });
    expect(d.isClosed).toBe(false);
    d.send('\r\nbody\r\n.\r\n');
    expect(codes(d).slice(-2)).toEqual(['250 2.0.0', '421 4.3.2']);
    expect(d.isClosed).toBe(true);
  });

  it('session reads and drops the chunk of a refused BDAT', () => {
    const d = new PureDriver().connect().send('EHLO c\r\nBDAT 4\r\nRSETNOOP\r\n');
    expect(codes(d).slice(-2)).toEqual(['503 5.5.1', '250 2.0.0']);
  });

  it('session stores a BDAT message from all of its chunks', () => {
    const d = new PureDriver().connect().send(`${transaction}BDAT 3\r\nabcBDAT 0 LAST\r\n`);
    expect(codes(d).slice(-2)).toEqual(['250 2.0.0', '250 2.0.0']);
    expect(d.bodies).toEqual(['abc']);
  });

  it('session asks to abort the open BDAT message on RSET, EHLO and HELO', () => {
    for (const verb of ['RSET', 'EHLO c', 'HELO c']) {
      const d = new PureDriver().connect().send(`${transaction}BDAT 3\r\nabc`);
      const out = d.session.handle({ type: 'line', line: verb });
      expect(out.actions, verb).toEqual([{ kind: 'abort-message' }]);
      expect(out.replies[0]?.code).toBe(250);
    }
  });

  it('session has nothing to abort on RSET before a message is open', () => {
    const d = new PureDriver().connect().send(transaction);
    expect(d.session.handle({ type: 'line', line: 'RSET' }).actions).toEqual([]);
  });

  it('session refuses DATA after BDAT in one transaction', () => {
    const d = new PureDriver().connect().send(`${transaction}BDAT 1\r\nxDATA\r\n`);
    expect(codes(d).at(-1)).toBe('503 5.5.1');
  });

  it('session asks to drop the open BDAT message on QUIT', () => {
    const d = new PureDriver().connect().send(`${transaction}BDAT 3\r\nabc`);
    const out = d.session.handle({ type: 'line', line: 'QUIT' });
    expect(out.actions.map((a) => a.kind)).toEqual(['abort-message', 'close']);
  });
});
