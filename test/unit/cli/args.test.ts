import { describe, expect, it } from 'vitest';
import { parseArgs, usageLine } from '../../../src/cli/args.js';

const usageError = (problem: string) => ({ mode: 'usage-error', problem });

describe('parseArgs', () => {
  it.each([
    [[], { mode: 'run', configPath: null }],
    [['-f', '/etc/mta.conf'], { mode: 'run', configPath: '/etc/mta.conf' }],
    [['--file', 'a.conf'], { mode: 'run', configPath: 'a.conf' }],
    [['--file=a.conf'], { mode: 'run', configPath: 'a.conf' }],
    [['-fa.conf'], { mode: 'run', configPath: 'a.conf' }],
    [['-t'], { mode: 'test', configPath: null }],
    [['-t', '-f', 'a.conf'], { mode: 'test', configPath: 'a.conf' }],
    [['-f', 'a.conf', '-t'], { mode: 'test', configPath: 'a.conf' }],
    [['-tf', 'a.conf'], { mode: 'test', configPath: 'a.conf' }],
    [['--test', '--file', 'a.conf'], { mode: 'test', configPath: 'a.conf' }],
  ])('parseArgs reads %j as run or test mode', (argv, expected) => {
    expect(parseArgs(argv)).toEqual(expected);
  });

  it.each([
    [['--help'], 'help'],
    [['-h'], 'help'],
    [['--version'], 'version'],
    [['-V'], 'version'],
    [['-t', '--help'], 'help'],
    [['config', '--version'], 'version'],
  ])('parseArgs reads %j as %s', (argv, mode) => {
    expect(parseArgs(argv)).toEqual({ mode });
  });

  it('parseArgs reads config --json with the file as operand or -f', () => {
    expect(parseArgs(['config', '--json', 'a.conf'])).toEqual({ mode: 'config-json', configPath: 'a.conf' });
    expect(parseArgs(['config', 'a.conf', '--json'])).toEqual({ mode: 'config-json', configPath: 'a.conf' });
    expect(parseArgs(['config', '--json', '-f', 'a.conf'])).toEqual({ mode: 'config-json', configPath: 'a.conf' });
  });

  it('parseArgs hands everything after queue to the queue command except -f', () => {
    expect(parseArgs(['queue', 'list'])).toEqual({ mode: 'queue', args: ['list'], configPath: null });
    expect(parseArgs(['-f', 'a.conf', 'queue', 'show', 'ABC'])).toEqual({ mode: 'queue', args: ['show', 'ABC'], configPath: 'a.conf' });
    expect(parseArgs(['queue', 'delete', '-f', 'a.conf', 'ABC', '--all', '-v'])).toEqual({
      mode: 'queue',
      args: ['delete', 'ABC', '--all', '-v'],
      configPath: 'a.conf',
    });
    expect(parseArgs(['queue', 'flush', '--file=a.conf'])).toEqual({ mode: 'queue', args: ['flush'], configPath: 'a.conf' });
    expect(parseArgs(['queue', 'list', '-fa.conf'])).toEqual({ mode: 'queue', args: ['list'], configPath: 'a.conf' });
  });

  it('parseArgs reads newaliases with or without -f', () => {
    expect(parseArgs(['newaliases'])).toEqual({ mode: 'newaliases', configPath: null });
    expect(parseArgs(['newaliases', '-f', '/etc/mta.conf'])).toEqual({ mode: 'newaliases', configPath: '/etc/mta.conf' });
    expect(parseArgs(['-f/etc/mta.conf', 'newaliases'])).toEqual({ mode: 'newaliases', configPath: '/etc/mta.conf' });
  });

  it('parseArgs hands everything after user to the user command except -f', () => {
    expect(parseArgs(['user', 'add', 'alice@example.org', '--address', 'a@example.org', '--password-stdin', '-f', 'a.conf'])).toEqual({
      mode: 'user',
      args: ['add', 'alice@example.org', '--address', 'a@example.org', '--password-stdin'],
      configPath: 'a.conf',
    });
    expect(parseArgs(['user', 'address', 'add', 'bob', '--address=x@y'])).toEqual({ mode: 'user', args: ['address', 'add', 'bob', '--address=x@y'], configPath: null });
    expect(parseArgs(['user'])).toEqual(usageError('missing user command (add, passwd, del, list, enable, disable or address)'));
  });

  it.each([
    [['-x'], 'unknown option "-x"'],
    [['-tx'], 'unknown option "-x"'],
    [['--frobnicate=1'], 'unknown option "--frobnicate"'],
    [['-f'], 'option -f needs a file argument'],
    [['-f', ''], 'option -f needs a file argument'],
    [['--file'], 'option --file needs a file argument'],
    [['-f', 'a', '-f', 'b'], 'option -f given twice'],
    [['frob'], 'unknown command "frob"'],
    [['mta.conf'], 'unknown command "mta.conf"'],
    [['--json', '-f', 'a.conf'], 'option --json is only for "mta config --json FILE"'],
    [['config', 'a.conf'], '"mta config" needs --json'],
    [['config', '--json'], 'missing file for "mta config --json FILE"'],
    [['config', '--json', 'a', 'b'], '"mta config --json" takes one file'],
    [['config', '--json', 'a', '-f', 'b'], '"mta config --json" takes one file'],
    [['-t', 'config', '--json', 'a'], 'option -t cannot be combined with "mta config"'],
    [['-t', 'queue', 'list'], 'option -t cannot be combined with "mta queue"'],
    [['queue'], 'missing queue command (list, show, flush or delete)'],
    [['queue', '-f', 'a.conf'], 'missing queue command (list, show, flush or delete)'],
    [['queue', 'list', '-f'], 'option -f needs a file argument'],
    [['newaliases', '/etc/aliases'], '"mta newaliases" takes no arguments (got "/etc/aliases"); it checks maildir.aliases of -f FILE'],
    [['-t', 'newaliases'], 'option -t cannot be combined with "mta newaliases"'],
    [['newaliases', '-v'], 'unknown option "-v"'],
  ])('parseArgs rejects %j', (argv, problem) => {
    expect(parseArgs(argv)).toEqual(usageError(problem));
  });

  it('usageLine points at --help', () => {
    expect(usageLine('unknown option "-x"')).toBe('mta: unknown option "-x"; try "mta --help"');
  });
});
