import { describe, expect, it } from 'vitest';
import { parseSendmailArgs } from '../../../src/cli/sendmail-args.js';

const send = { mode: 'send', sender: null, fullName: null, recipients: [], extractRecipients: false, ignoreDots: false, configPath: null };

describe('sendmail arguments', () => {
  it('sendmail arguments take recipients after the options', () => {
    expect(parseSendmailArgs(['-i', 'a@b', 'c'])).toEqual({ ...send, ignoreDots: true, recipients: ['a@b', 'c'] });
  });

  it('sendmail arguments read values in the same word or the next, and clusters of flags', () => {
    expect(parseSendmailArgs(['-ti', '-fme@x', '-F', 'Me Myself', '-C/etc/other.conf'])).toEqual({
      ...send,
      extractRecipients: true,
      ignoreDots: true,
      sender: 'me@x',
      fullName: 'Me Myself',
      configPath: '/etc/other.conf',
    });
  });

  it('sendmail arguments accept what cron passes: -FCronDaemon -i -B8BITMIME -oem', () => {
    expect(parseSendmailArgs(['-FCronDaemon', '-i', '-B8BITMIME', '-oem', 'root'])).toEqual({ ...send, fullName: 'CronDaemon', ignoreDots: true, recipients: ['root'] });
  });

  it('sendmail arguments treat -oi as -i and -r as -f', () => {
    expect(parseSendmailArgs(['-oi', '-r', 's@x', 'a'])).toMatchObject({ ignoreDots: true, sender: 's@x' });
  });

  it('sendmail arguments end options at -- so a recipient may start with a dash', () => {
    expect(parseSendmailArgs(['--', '-odd@x'])).toMatchObject({ recipients: ['-odd@x'] });
  });

  it('sendmail arguments map -bp to mailq and -bi to newaliases', () => {
    expect(parseSendmailArgs(['-bp'])).toEqual({ mode: 'mailq', configPath: null });
    expect(parseSendmailArgs(['-bi', '-C', 'x.conf'])).toEqual({ mode: 'newaliases', configPath: 'x.conf' });
  });

  it('sendmail arguments refuse unknown options, unsupported modes and missing values', () => {
    expect(parseSendmailArgs(['-q'])).toEqual({ mode: 'usage-error', problem: 'unknown option "-q"' });
    expect(parseSendmailArgs(['-bs'])).toEqual({ mode: 'usage-error', problem: 'unsupported mode "-bs"' });
    expect(parseSendmailArgs(['-f'])).toEqual({ mode: 'usage-error', problem: 'option -f needs a value' });
  });
});
