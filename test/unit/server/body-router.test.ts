import { describe, expect, it } from 'vitest';
import { BodyRouter, type RoutedItem } from '../../../src/server/body-router.js';

/** Pushes each piece and drains the router after it, acting on commands like a session would. */
function run(pieces: readonly string[], onLine: (line: string, router: BodyRouter) => void = () => undefined): string[] {
  const router = new BodyRouter({ maxMessageBytes: 1000, bareLinefeed: 'reject' });
  const out: string[] = [];
  for (const piece of pieces) {
    router.push(Buffer.from(piece, 'latin1'));
    for (let item = router.next(); item; item = router.next()) {
      out.push(describeItem(item));
      if (item.kind === 'command' && item.item.kind === 'line') onLine(item.item.line, router);
    }
  }
  return out.reduce<string[]>((acc, s) => (s.startsWith('body:') && acc.at(-1)?.startsWith('body:') ? [...acc.slice(0, -1), acc.at(-1) + s.slice(5)] : [...acc, s]), []);
}

function describeItem(item: RoutedItem): string {
  switch (item.kind) {
    case 'command':
      return item.item.kind === 'line' ? `line:${item.item.line}` : item.item.kind;
    case 'body':
      return `body:${Buffer.concat(item.buffers).toString('latin1')}`;
    case 'data-end':
      return `data-end:${item.problem ?? 'ok'}`;
    case 'chunk-end':
      return `chunk-end:${item.bytes}${item.isLast ? ' last' : ''}${item.isDiscarded ? ' discarded' : ''}:${item.problem ?? 'ok'}`;
  }
}

/** Acts like the session: DATA and BDAT n [LAST] switch the router's mode. */
function session(line: string, router: BodyRouter): void {
  if (line === 'DATA') router.receiveData(1000);
  const bdat = /^BDAT (\d+)( LAST)?$/.exec(line);
  if (bdat) router.receiveChunk(Number(bdat[1]), bdat[2] !== undefined, false);
}

describe('body router', () => {
  it('body router treats bytes pipelined behind DATA as data once the mode switches, and commands after CRLF.CRLF', () => {
    expect(run(['MAIL FROM:<a@b>\r\nDATA\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n'], session)).toEqual([
      'line:MAIL FROM:<a@b>',
      'line:DATA',
      'body:hello\r\n.dot\r\n',
      'data-end:ok',
      'line:QUIT',
    ]);
  });

  it('body router finds CRLF.CRLF split across pushes at every position', () => {
    const text = 'DATA\r\nabc\r\n.\r\nNOOP\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(run([text.slice(0, cut), text.slice(cut)], session), `cut at ${cut}`).toEqual(['line:DATA', 'body:abc\r\n', 'data-end:ok', 'line:NOOP']);
    }
  });

  it('body router reads a BDAT chunk by its size, whatever it contains, then commands again', () => {
    expect(run(['BDAT 9\r\nQUIT\r\n.\r\nBDAT 0 LAST\r\nNOOP\r\n'], session)).toEqual([
      'line:BDAT 9',
      'body:QUIT\r\n.\r\n',
      'chunk-end:9:ok',
      'line:BDAT 0 LAST',
      'chunk-end:0 last:ok',
      'line:NOOP',
    ]);
  });

  it('body router reads and drops a discarded chunk without decoding it', () => {
    const discard = (line: string, router: BodyRouter) => {
      if (line === 'BDAT 4') router.receiveChunk(4, false, true);
    };
    expect(run(['BDAT 4\r\n', 'x\nyzNOOP\r\n'], discard)).toEqual(['line:BDAT 4', 'chunk-end:4 discarded:ok', 'line:NOOP']);
  });

  it('body router reports a bare LF in DATA at the end of the message, and nothing of it after the LF', () => {
    // The bytes before the bare LF may already be out; the connection drops them with the message.
    expect(run(['DATA\r\na\nb\r\n.\r\nNOOP\r\n'], session)).toEqual(['line:DATA', 'body:a', 'data-end:bare-lf', 'line:NOOP']);
  });

  it('body router drops everything pipelined after a line when told to (STARTTLS)', () => {
    const router = new BodyRouter({ maxMessageBytes: 1000, bareLinefeed: 'reject' });
    router.push(Buffer.from('STARTTLS\r\nRSET\r\nMAIL FROM:<a@b'));
    expect(describeItem(router.next() as RoutedItem)).toBe('line:STARTTLS');
    expect(router.discardInput()).toBe(6 + 14);
    expect(router.next()).toBeUndefined();
    router.push(Buffer.from('EHLO c\r\n'));
    expect(describeItem(router.next() as RoutedItem)).toBe('line:EHLO c');
  });
});
