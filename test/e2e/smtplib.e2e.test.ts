// Python's smtplib (a client we did not write) against the built server: every command and its
// reply, SIZE declared and actual, BDAT through raw socket writes (smtplib has no BDAT API),
// SMTPUTF8 addresses, 8-bit bodies and IPv6. Each test is a short inline script run by python3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { listFiles, newFolder, readMessage, waitForFiles, waitUntil } from '../helpers/maildir.js';
import { runPython, shouldRunWith } from '../helpers/peers.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const MAX_MESSAGE_BYTES = 65536;

/** Opens `s` (an smtplib.SMTP) and offers `r()` to turn a reply tuple into JSON; sets `out`. */
const PRELUDE = `
import json, smtplib, sys
port = int(sys.argv[1])
host = sys.argv[2]
out = {}
def r(t):
    return [t[0], t[1].decode('utf-8', 'replace')]
s = smtplib.SMTP(host, port, local_hostname='client.test', timeout=30)
`;

type PyReply = [number, string];

describe.skipIf(!shouldRunWith('python3', 'smtplib tests'))('smtplib', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // max_errors is raised so one session can walk through every refusal.
    server = await startServer({ awaitGreeting: true, server: `max_message_size = ${MAX_MESSAGE_BYTES}; max_errors = 50;` });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  function python<T>(body: string, host = '127.0.0.1'): Promise<T> {
    return runPython<T>(`${PRELUDE}\n${body}\nprint(json.dumps(out))\n`, [server.port, host]);
  }

  async function onlyMessage(address: string) {
    const files = await waitForFiles(newFolder(`${server.dir}/mail`, address), 1);
    expect(files).toHaveLength(1);
    return readMessage(files[0] as string);
  }

  it('smtplib EHLO lists every extension with the configured SIZE', async () => {
    const out = await python<{ ehlo: PyReply; features: Record<string, string>; helo: PyReply }>(`
out['ehlo'] = r(s.ehlo('client.test'))
out['features'] = s.esmtp_features
out['helo'] = r(s.helo('client.test'))
s.quit()`);
    expect(out.ehlo[0]).toBe(250);
    expect(out.ehlo[1].split('\n')[0]).toBe('mx.test Hello [127.0.0.1]');
    expect(out.features).toEqual({
      pipelining: '', size: String(MAX_MESSAGE_BYTES), '8bitmime': '', enhancedstatuscodes: '', smtputf8: '', chunking: '',
    });
    expect(out.helo).toEqual([250, 'mx.test Hello [127.0.0.1]']);
  });

  it('smtplib gets the documented reply to every command', async () => {
    const out = await python<Record<string, PyReply>>(`
out['mail-before-helo'] = r(s.docmd('MAIL FROM:<a@example.net>'))
s.ehlo('client.test')
for name, line in [
    ('noop', 'NOOP'), ('help', 'HELP'), ('vrfy', 'VRFY alice'), ('expn', 'EXPN staff'),
    ('unknown', 'FROB x'), ('rcpt-first', 'RCPT TO:<alice@example.org>'), ('data-first', 'DATA'),
    ('mail-syntax', 'MAIL FROM:alice'), ('mail-param', 'MAIL FROM:<a@example.net> FROB=1'),
    ('mail', 'MAIL FROM:<a@example.net>'), ('nested-mail', 'MAIL FROM:<a@example.net>'),
    ('data-no-rcpt', 'DATA'), ('rcpt-syntax', 'RCPT TO:<no-at-sign'), ('rcpt-param', 'RCPT TO:<alice@example.org> FROB=1'),
    ('rcpt', 'RCPT TO:<alice@example.org>'), ('rset', 'RSET'), ('rset-args', 'RSET now'),
    ('data-after-rset', 'DATA'),
]:
    out[name] = r(s.docmd(line))
out['quit'] = r(s.quit())`);
    const code = (name: string) => `${out[name]?.[0]} ${out[name]?.[1].split(' ')[0]}`;
    expect(code('mail-before-helo')).toBe('503 5.5.1');
    expect(code('noop')).toBe('250 2.0.0');
    expect(out.help?.[0]).toBe(214);
    expect(out.help?.[1]).toContain('HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP');
    expect(code('vrfy')).toBe('502 5.5.1');
    expect(code('expn')).toBe('502 5.5.1');
    expect(code('unknown')).toBe('500 5.5.2');
    expect(code('rcpt-first')).toBe('503 5.5.1');
    expect(code('data-first')).toBe('503 5.5.1');
    expect(out['mail-syntax']?.[0]).toBe(501);
    expect(code('mail-param')).toBe('555 5.5.4');
    expect(code('mail')).toBe('250 2.1.0');
    expect(code('nested-mail')).toBe('503 5.5.1');
    expect(code('data-no-rcpt')).toBe('503 5.5.1');
    expect(out['rcpt-syntax']?.[0]).toBe(501);
    expect(code('rcpt-param')).toBe('555 5.5.4');
    expect(code('rcpt')).toBe('250 2.1.5');
    expect(code('rset')).toBe('250 2.0.0');
    expect(code('rset-args')).toBe('501 5.5.4');
    expect(code('data-after-rset')).toBe('503 5.5.1');
    expect(code('quit')).toBe('221 2.0.0');
  });

  it('smtplib sendmail delivers with a 250 2.0.0 naming the queue id', async () => {
    const out = await python<{ refused: Record<string, unknown>; data: PyReply }>(`
s.ehlo('client.test')
s.mail('sender@example.net')
s.rcpt('grace@example.org')
out['data'] = r(s.data(b'Subject: sendmail\\r\\n\\r\\nline one\\r\\n.one dot\\r\\n'))
out['refused'] = s.sendmail('sender@example.net', ['heidi@example.org'], b'Subject: second\\r\\n\\r\\nhello\\r\\n')
s.quit()`);
    expect(out.data[0]).toBe(250);
    const queueId = /^2\.0\.0 OK: queued as (\S+)$/.exec(out.data[1])?.[1];
    expect(queueId).toBeDefined();
    expect(out.refused).toEqual({});
    const m = await onlyMessage('grace@example.org');
    expect(m.received).toContain(`with ESMTP id ${queueId} for <grace@example.org>`);
    // smtplib dot-stuffs the leading dot and we unstuff it.
    expect(m.body).toBe('line one\n.one dot\n');
    expect((await onlyMessage('heidi@example.org')).body).toBe('hello\n');
  });

  it('smtplib is refused a declared SIZE over max_message_size with 552 5.3.4', async () => {
    const out = await python<{ error: PyReply; noop: PyReply }>(`
s.ehlo('client.test')
try:
    s.sendmail('sender@example.net', ['ivan@example.org'], b'x' * ${MAX_MESSAGE_BYTES + 1})
    out['error'] = [0, 'accepted']
except smtplib.SMTPSenderRefused as e:
    out['error'] = [e.smtp_code, e.smtp_error.decode()]
out['noop'] = r(s.noop())`);
    expect(out.error[0]).toBe(552);
    expect(out.error[1]).toMatch(/^5\.3\.4 /);
    expect(out.noop[0]).toBe(250);
    expect(listFiles(newFolder(`${server.dir}/mail`, 'ivan@example.org'))).toEqual([]);
  });

  it('smtplib is refused an undeclared body over max_message_size with 552 5.3.4 after the final dot', async () => {
    const out = await python<{ data: PyReply; noop: PyReply }>(`
s.ehlo('client.test')
s.docmd('MAIL FROM:<sender@example.net>')
s.docmd('RCPT TO:<judy@example.org>')
body = b'Subject: big\\r\\n\\r\\n' + (b'y' * 70 + b'\\r\\n') * ${Math.ceil(MAX_MESSAGE_BYTES / 72) + 10}
out['data'] = r(s.data(body))
out['noop'] = r(s.noop())`);
    expect(out.data[0]).toBe(552);
    expect(out.data[1]).toMatch(/^5\.3\.4 /);
    expect(out.noop[0]).toBe(250);
    expect(listFiles(newFolder(`${server.dir}/mail`, 'judy@example.org'))).toEqual([]);
  });

  it('smtplib sends BDAT chunks on the raw socket and the message is delivered', async () => {
    const out = await python<{ replies: PyReply[] }>(`
s.ehlo('client.test')
out['replies'] = [r(s.docmd('MAIL FROM:<sender@example.net>')), r(s.docmd('RCPT TO:<karl@example.org>'))]
chunks = [b'Subject: chunked\\r\\n\\r\\n', b'first part, then a CRLF split across chunks\\r', b'\\n.not stuffed\\r\\n']
for i, c in enumerate(chunks):
    last = ' LAST' if i == len(chunks) - 1 else ''
    s.sock.sendall(('BDAT %d%s\\r\\n' % (len(c), last)).encode() + c)
    out['replies'].append(r(s.getreply()))
out['replies'].append(r(s.docmd('BDAT 0 LAST')))
s.quit()`);
    expect(out.replies.map((x) => x[0])).toEqual([250, 250, 250, 250, 250, 503]);
    expect(out.replies[2]?.[1]).toBe('2.0.0 20 octets received');
    expect(out.replies[4]?.[1]).toMatch(/^2\.0\.0 OK: queued as /);
    const m = await onlyMessage('karl@example.org');
    expect(m.body).toBe('first part, then a CRLF split across chunks\n.not stuffed\n');
    expect(m.received).toContain(' with ESMTP id ');
  });

  it('smtplib BDAT chunks over max_message_size are read to the end and refused with 552 5.3.4', async () => {
    const out = await python<{ replies: PyReply[] }>(`
s.ehlo('client.test')
s.docmd('MAIL FROM:<sender@example.net>')
s.docmd('RCPT TO:<leo@example.org>')
out['replies'] = []
chunk = (b'z' * 998 + b'\\r\\n') * 40
for last in ['', ' LAST']:
    s.sock.sendall(('BDAT %d%s\\r\\n' % (len(chunk), last)).encode() + chunk)
    out['replies'].append(r(s.getreply()))
out['replies'].append(r(s.noop()))`);
    expect(out.replies.map((x) => x[0])).toEqual([250, 552, 250]);
    expect(out.replies[1]?.[1]).toMatch(/^5\.3\.4 /);
    expect(listFiles(newFolder(`${server.dir}/mail`, 'leo@example.org'))).toEqual([]);
  });

  it('smtplib RSET between BDAT chunks drops that message and the next one starts clean', async () => {
    const out = await python<{ replies: PyReply[] }>(`
s.ehlo('client.test')
out['replies'] = []
def bdat(data, last=''):
    s.sock.sendall(('BDAT %d%s\\r\\n' % (len(data), last)).encode() + data)
    out['replies'].append(r(s.getreply()))
s.docmd('MAIL FROM:<sender@example.net>')
s.docmd('RCPT TO:<olga@example.org>')
bdat(b'Subject: dropped\\r\\n\\r\\nends in a CR\\r')
out['replies'].append(r(s.rset()))
s.docmd('MAIL FROM:<sender@example.net>')
s.docmd('RCPT TO:<olga@example.org>')
bdat(b'Subject: kept\\r\\n\\r\\nclean\\r\\n', ' LAST')
s.quit()`);
    // The second message must not inherit the first one's pending CR (that would be a bare CR).
    expect(out.replies.map((x) => x[0])).toEqual([250, 250, 250]);
    const m = await onlyMessage('olga@example.org');
    expect(m.raw).not.toContain('dropped');
    expect(m.raw).toContain('Subject: kept\n\nclean\n');
    // Nothing of the dropped message stays behind in the queue's tmp/ once the session is over.
    const tmp = `${server.dir}/queue/tmp`;
    expect(await waitUntil(() => readdirSync(tmp).length === 0), readdirSync(tmp).join(' ')).toBe(true);
  });

  it('smtplib delivers to a UTF-8 address with SMTPUTF8 and is refused one without it', async () => {
    const out = await python<{ without: PyReply; refused: Record<string, unknown> }>(`
s.ehlo('client.test')
s.docmd('MAIL FROM:<sender@example.net>')
s.command_encoding = 'utf-8'
out['without'] = r(s.docmd('RCPT TO:<jörg@example.org>'))
s.rset()
msg = 'Subject: grüße\\r\\n\\r\\nHallo Jörg\\r\\n'.encode('utf-8')
out['refused'] = s.sendmail('sénder@example.net', ['jörg@example.org'], msg, mail_options=['SMTPUTF8'])
s.quit()`);
    expect(out.without[0]).toBe(553);
    expect(out.without[1]).toMatch(/^5\.6\.7 /);
    expect(out.refused).toEqual({});
    const m = await onlyMessage('jörg@example.org');
    expect(m.raw.startsWith('Return-Path: <sénder@example.net>\n')).toBe(true);
    expect(m.received).toContain(' with UTF8SMTP id ');
    expect(m.received).toContain('for <jörg@example.org>');
    expect(m.body).toBe('Hallo Jörg\n');
  });

  it('smtplib send_message with mail_options SMTPUTF8 repeats the parameter and delivers', async () => {
    const out = await python<{ mail: string[]; refused: Record<string, unknown>; conflict: PyReply }>(`
from email.message import EmailMessage
sent = []
send = s.send
def record(data):
    sent.append(data.decode('utf-8') if isinstance(data, bytes) else data)
    return send(data)
s.send = record
s.ehlo('client.test')
msg = EmailMessage()
msg['From'] = 'ålice@example.org'
msg['To'] = 'öscar@example.org'
msg['Subject'] = 'repeats'
msg.set_content('Hej Öscar\\n')
out['refused'] = s.send_message(msg, mail_options=['SMTPUTF8'])
out['mail'] = [line.strip() for line in sent if line.upper().startswith('MAIL ')]
try:
    s.sendmail('sender@example.net', ['pat@example.org'], b'Subject: x\\r\\n\\r\\nx\\r\\n', mail_options=['BODY=7BIT', 'BODY=8BITMIME'])
    out['conflict'] = [0, 'accepted']
except smtplib.SMTPSenderRefused as e:
    out['conflict'] = [e.smtp_code, e.smtp_error.decode()]
s.quit()`);
    // smtplib adds SMTPUTF8 and BODY=8BITMIME to the caller's own SMTPUTF8.
    expect(out.mail).toHaveLength(1);
    expect(out.mail[0]).toMatch(/^mail FROM:<ålice@example\.org> size=\d+ SMTPUTF8 SMTPUTF8 BODY=8BITMIME$/);
    expect(out.refused).toEqual({});
    const m = await onlyMessage('öscar@example.org');
    expect(m.raw.startsWith('Return-Path: <ålice@example.org>\n')).toBe(true);
    expect(m.received).toContain(' with UTF8SMTP id ');
    expect(m.body).toBe('Hej Öscar\n');
    expect(out.conflict).toEqual([501, '5.5.4 Conflicting values for parameter: BODY']);
    expect(listFiles(newFolder(`${server.dir}/mail`, 'pat@example.org'))).toEqual([]);
  });

  it('smtplib delivers an 8-bit body with BODY=8BITMIME unchanged', async () => {
    await python(`
s.ehlo('client.test')
s.sendmail('sender@example.net', ['mallory@example.org'], 'Subject: 8bit\\r\\n\\r\\nçà va\\r\\n'.encode('utf-8'), mail_options=['BODY=8BITMIME'])
s.quit()`);
    expect((await onlyMessage('mallory@example.org')).body).toBe('çà va\n');
  });

  it('smtplib over IPv6 to ::1 delivers with [IPv6:::1] in Received', async () => {
    const out = await python<{ ehlo: PyReply }>(`
out['ehlo'] = r(s.ehlo('client6.test'))
s.sendmail('sender@example.net', ['niaj@example.org'], b'Subject: v6\\r\\n\\r\\nsix\\r\\n')
s.quit()`, '::1');
    expect(out.ehlo[1].split('\n')[0]).toBe('mx.test Hello [::1]');
    expect((await onlyMessage('niaj@example.org')).received).toMatch(/^Received: from client6\.test \(unknown \[IPv6:::1\]\) by mx\.test/);
  });
});
