import { describe, expect, it } from 'vitest';
import { checkCommandLine, parseBdatArgs, parseCommand, parseMailArgs, parseRcptArgs } from '../../../src/smtp/command-line.js';
import { decodeCommandBytes } from '../../../src/smtp/line-reader.js';

const offered = { smtputf8Offered: true };
const codeOf = (r: { ok: boolean; reply?: { code: number; enhancedCode?: string } }) =>
  r.ok ? 'ok' : `${r.reply?.code} ${r.reply?.enhancedCode}`;

describe('parseCommand', () => {
  it.each([
    ['HELO client.example', 'HELO', 'client.example'],
    ['ehlo client.example', 'EHLO', 'client.example'],
    ['Mail FROM:<a@b.c> SIZE=10', 'MAIL', 'FROM:<a@b.c> SIZE=10'],
    ['RCPT   TO:<a@b.c>', 'RCPT', 'TO:<a@b.c>'],
    ['DATA', 'DATA', ''],
    ['DATA ', 'DATA', ''],
    ['QUIT  \t', 'QUIT', ''],
    ['BDAT 100 LAST', 'BDAT', '100 LAST'],
    ['noop anything at all', 'NOOP', 'anything at all'],
    ['STARTTLS', 'STARTTLS', ''],
    ['AUTH PLAIN AGFsaWNlAHNlY3JldA==', 'AUTH', 'PLAIN AGFsaWNlAHNlY3JldA=='],
    ['RSET', 'RSET', ''],
    ['HELP MAIL', 'HELP', 'MAIL'],
    ['VRFY root', 'VRFY', 'root'],
    ['EXPN list', 'EXPN', 'list'],
  ])('parseCommand reads %j as %s', (line, verb, args) => {
    expect(parseCommand(line)).toEqual({ verb, args });
  });

  it.each(['', ' HELO x', 'HELOX', 'MAIL:FROM', 'GET / HTTP/1.1', 'DATA\tx', 'TURN'])(
    'parseCommand reports %j as unknown with its raw text',
    (line) => {
      expect(parseCommand(line)).toEqual({ verb: 'UNKNOWN', raw: line });
    },
  );
});

describe('parseMailArgs', () => {
  it('parseMailArgs reads a plain reverse-path with no parameters', () => {
    const r = parseMailArgs('FROM:<a@example.org>', offered);
    expect(r).toEqual({
      ok: true,
      reversePath: { localPart: 'a', domain: 'example.org', address: 'a@example.org', isNull: false, isPostmaster: false },
      params: { smtputf8: false },
    });
  });

  it.each(['FROM: <a@example.org>', 'from:<a@example.org>', 'From:   <a@example.org>'])(
    'parseMailArgs tolerates %j',
    (args) => {
      expect(codeOf(parseMailArgs(args, offered))).toBe('ok');
    },
  );

  it('parseMailArgs reads the null reverse-path', () => {
    const r = parseMailArgs('FROM:<>', offered);
    expect(r.ok && r.reversePath.isNull).toBe(true);
  });

  it('parseMailArgs reads SIZE, BODY and SMTPUTF8', () => {
    const r = parseMailArgs('FROM:<a@b.c> size=1024 BODY=8bitmime SMTPUTF8', offered);
    expect(r.ok && r.params).toEqual({ size: 1024, body: '8BITMIME', smtputf8: true });
  });

  it('parseMailArgs clamps a huge SIZE to the largest safe integer', () => {
    const r = parseMailArgs(`FROM:<a@b.c> SIZE=${'9'.repeat(20)}`, offered);
    expect(r.ok && r.params.size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('parseMailArgs keeps a quoted local part containing spaces and >', () => {
    const r = parseMailArgs('FROM:<"a b>c"@example.org> SIZE=1', offered);
    expect(r.ok && r.reversePath.address).toBe('"a b>c"@example.org');
    expect(r.ok && r.params.size).toBe(1);
  });

  it.each([
    ['TO:<a@b.c>', '501 5.5.4'],
    ['FROM', '501 5.5.4'],
    ['FROM<a@b.c>', '501 5.5.4'],
    ['FROM:a@b.c', '501 5.1.7'],
    ['FROM:', '501 5.1.7'],
    ['FROM:<a@b.c', '501 5.1.7'],
    ['FROM:<a@@b.c>', '501 5.1.7'],
    ['FROM:<Postmaster>', '501 5.1.7'],
    ['FROM:<a@b.c>SIZE=1', '501 5.5.4'],
    ['FROM:<a@b.c> SIZE=', '501 5.5.4'],
    ['FROM:<a@b.c> SIZE', '501 5.5.4'],
    ['FROM:<a@b.c> SIZE=-1', '501 5.5.4'],
    ['FROM:<a@b.c> SIZE=1k', '501 5.5.4'],
    ['FROM:<a@b.c> SIZE=123456789012345678901', '501 5.5.4'],
    ['FROM:<a@b.c> SIZE=1 SIZE=2', '501 5.5.4'],
    ['FROM:<a@b.c> BODY=BINARYMIME', '501 5.5.4'],
    ['FROM:<a@b.c> BODY', '501 5.5.4'],
    ['FROM:<a@b.c> SMTPUTF8=yes', '501 5.5.4'],
    ['FROM:<a@b.c> BODY=7BIT BODY=8BITMIME', '501 5.5.4'],
    ['FROM:<a@b.c> SIZE=1 SIZE=x', '501 5.5.4'],
    ['FROM:<a@b.c> SMTPUTF8 SMTPUTF8=yes', '501 5.5.4'],
    ['FROM:<a@b.c> =x', '501 5.5.4'],
    ['FROM:<a@b.c> SI_ZE=1', '501 5.5.4'],
    ['FROM:<a@b.c> RET=FULL', '555 5.5.4'],
    ['FROM:<a@b.c> ENVID=abc', '555 5.5.4'],
    ['FROM:<a@b.c> AUTH=<>', '555 5.5.4'],
    ['FROM:<a@b.c> X-FOO', '555 5.5.4'],
    ['FROM:<josé@b.c>', '553 5.6.7'],
  ])('parseMailArgs refuses %j with %s', (args, expected) => {
    expect(codeOf(parseMailArgs(args, offered))).toBe(expected);
  });

  it('parseMailArgs accepts the repeats Python smtplib sends with a UTF-8 address', () => {
    // smtplib's send_message adds SMTPUTF8 and BODY=8BITMIME to the caller's own mail_options.
    const r = parseMailArgs('FROM:<ålice@example.org> size=42 SMTPUTF8 SMTPUTF8 BODY=8BITMIME', offered);
    expect(r.ok && r.params).toEqual({ size: 42, body: '8BITMIME', smtputf8: true });
  });

  it.each([
    ['SIZE=100 SIZE=100', { size: 100 }],
    ['SIZE=100 size=0100', { size: 100 }],
    ['BODY=8BITMIME body=8bitmime', { body: '8BITMIME' }],
    ['BODY=7BIT SIZE=5 BODY=7bit', { body: '7BIT', size: 5 }],
  ])('parseMailArgs accepts the agreeing repeats %j', (words, params) => {
    const r = parseMailArgs(`FROM:<a@b.c> ${words}`, offered);
    expect(r.ok && r.params).toEqual({ smtputf8: false, ...params });
  });

  it('parseMailArgs names the parameter whose repeats disagree', () => {
    const r = parseMailArgs('FROM:<a@b.c> SIZE=1 BODY=7BIT SIZE=2', offered);
    expect(r.ok ? 'ok' : r.reply.lines[0]).toBe('Conflicting values for parameter: SIZE');
  });

  it('parseMailArgs accepts agreeing AUTH= repeats and refuses disagreeing ones', () => {
    const auth = { smtputf8Offered: false, authOffered: true };
    expect(codeOf(parseMailArgs('FROM:<a@b.c> AUTH=<> AUTH=<>', auth))).toBe('ok');
    expect(codeOf(parseMailArgs('FROM:<a@b.c> AUTH=<> AUTH=a@b.c', auth))).toBe('501 5.5.4');
  });

  it('parseMailArgs treats SMTPUTF8 as unknown when it was not offered', () => {
    expect(codeOf(parseMailArgs('FROM:<a@b.c> SMTPUTF8', { smtputf8Offered: false }))).toBe('555 5.5.4');
  });

  it('parseMailArgs allows a UTF-8 reverse-path only with the SMTPUTF8 parameter', () => {
    const r = parseMailArgs('FROM:<josé@bücher.example> SMTPUTF8', offered);
    expect(r.ok && r.reversePath.address).toBe('josé@bücher.example');
  });

  it('parseMailArgs accepts AUTH= when AUTH was offered', () => {
    const r = parseMailArgs('FROM:<a@b.c> AUTH=<>', { smtputf8Offered: false, authOffered: true });
    expect(r.ok && r.params.auth).toBe('<>');
  });
});

describe('parseRcptArgs', () => {
  it('parseRcptArgs reads a forward-path', () => {
    const r = parseRcptArgs('TO:<b@example.org>', offered);
    expect(r.ok && r.forwardPath.address).toBe('b@example.org');
  });

  it.each(['TO: <b@example.org>', 'to:<b@example.org>'])('parseRcptArgs tolerates %j', (args) => {
    expect(codeOf(parseRcptArgs(args, offered))).toBe('ok');
  });

  it.each(['TO:<Postmaster>', 'TO:<postmaster>', 'TO:<POSTMASTER>'])(
    'parseRcptArgs accepts the special case %s with no domain',
    (args) => {
      const r = parseRcptArgs(args, offered);
      expect(r.ok && r.forwardPath.isPostmaster && r.forwardPath.domain).toBe('');
    },
  );

  it.each([
    ['FROM:<b@c.d>', '501 5.5.4'],
    ['TO:', '501 5.1.3'],
    ['TO:<>', '501 5.1.3'],
    ['TO:b@c.d', '501 5.1.3'],
    ['TO:<b@c..d>', '501 5.1.3'],
    ['TO:<b@c.d>x', '501 5.5.4'],
    ['TO:<b@c.d> NOTIFY=NEVER', '555 5.5.4'],
    ['TO:<b@c.d> ORCPT=rfc822;b@c.d', '555 5.5.4'],
    ['TO:<b@c.d> ==', '501 5.5.4'],
    ['TO:<bé@c.d>', '553 5.6.7'],
  ])('parseRcptArgs refuses %j with %s', (args, expected) => {
    expect(codeOf(parseRcptArgs(args, offered))).toBe(expected);
  });

  it('parseRcptArgs allows a UTF-8 forward-path only in an SMTPUTF8 transaction', () => {
    expect(codeOf(parseRcptArgs('TO:<bé@c.d>', { smtputf8Offered: true, utf8Allowed: true }))).toBe('ok');
    expect(codeOf(parseRcptArgs('TO:<bé@c.d>', { smtputf8Offered: false, utf8Allowed: true }))).toBe('553 5.6.7');
  });
});

describe('parseBdatArgs', () => {
  it.each([
    ['0', 0, false],
    ['100', 100, false],
    ['100 LAST', 100, true],
    ['100 last', 100, true],
    ['100   LAST', 100, true],
    ['0 LAST', 0, true],
  ])('parseBdatArgs reads %j', (args, size, last) => {
    expect(parseBdatArgs(args)).toEqual({ ok: true, size, last });
  });

  it.each(['', 'LAST', '-1', '1.5', '10 LAST x', '10 FIRST', '10LAST', '99999999999999999999'])(
    'parseBdatArgs refuses %j with 501 5.5.4',
    (args) => {
      expect(codeOf(parseBdatArgs(args))).toBe('501 5.5.4');
    },
  );
});

describe('checkCommandLine', () => {
  const check = (line: string) => {
    const r = checkCommandLine(line);
    return r ? `${r.code} ${r.enhancedCode} ${r.lines[0]}` : 'ok';
  };
  /** Decodes text and raw byte values as the line reader does. */
  const bytes = (...parts: (string | readonly number[])[]) =>
    decodeCommandBytes(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));

  it.each([
    'EHLO client.example',
    'MAIL FROM:<jörg@bücher.example> SMTPUTF8',
    'NOOP \u{1F600} and \uFFFD are UTF-8',
    'QUIT \t',
    'NOOP a\tb',
    '',
  ])('checkCommandLine lets %j through', (line) => {
    expect(check(line)).toBe('ok');
  });

  it.each([
    ['a NUL', 'HELO a\x00b'],
    ['an escape', 'HELO \x1b[31mred'],
    ['a bare CR', 'HELO a\rRSET'],
    ['a bare LF', 'NOOP a\nb'],
    ['a form feed', 'NOOP \f'],
    ['DEL', 'EHLO a\x7f'],
    ['a C1 control', 'EHLO a\u0085b'],
  ])('checkCommandLine refuses %s with 500 5.5.2', (_what, line) => {
    expect(check(line)).toBe('500 5.5.2 Error: bad syntax: control character in command');
  });

  it.each([
    ['a lone continuation byte', ['HELO a', [0x80], 'b']],
    ['Latin-1 text', ['HELO caf', [0xe9]]],
    ['a truncated sequence', ['NOOP ', [0xe2, 0x82]]],
    ['an overlong form', ['MAIL FROM:<', [0xc0, 0xaf], '@b.c>']],
    ['an encoded surrogate', ['NOOP ', [0xed, 0xa0, 0x80]]],
    ['a code point past U+10FFFF', ['NOOP ', [0xf4, 0x90, 0x80, 0x80]]],
    ['a 0xFF byte', ['NOOP ', [0xff]]],
  ] as const)('checkCommandLine refuses %s with 500 5.5.2 bad UTF-8', (_what, parts) => {
    expect(check(bytes(...parts))).toBe('500 5.5.2 Error: bad UTF-8 syntax');
  });

  it('checkCommandLine reports bad UTF-8 before control characters', () => {
    expect(check(bytes('HELO \x00', [0xff]))).toBe('500 5.5.2 Error: bad UTF-8 syntax');
  });
});
