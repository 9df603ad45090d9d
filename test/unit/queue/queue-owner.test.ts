// Whom `mta queue` acts as: root hands over to the queue's owner, so envelopes it rewrites
// (flush) stay readable by the daemon. The drop itself is covered by test/e2e/queue-cli.
import { describe, expect, it } from 'vitest';
import { queueOwner } from '../../../src/cli/queue-command.js';

describe('queue owner', () => {
  it('queue owner is the queue root owner when root runs the command', () => {
    expect(queueOwner(0, { uid: 65534, gid: 65534 })).toEqual({ user: '65534', uid: 65534, gid: 65534, group: '65534' });
  });

  it('queue owner is nobody to switch to for a queue root owns', () => {
    expect(queueOwner(0, { uid: 0, gid: 0 })).toBeUndefined();
  });

  it('queue owner is nobody to switch to when not running as root', () => {
    expect(queueOwner(1000, { uid: 65534, gid: 65534 })).toBeUndefined();
    expect(queueOwner(undefined, { uid: 65534, gid: 65534 })).toBeUndefined();
  });

  it('queue owner is nobody to switch to when the queue root is missing', () => {
    expect(queueOwner(0, undefined)).toBeUndefined();
  });
});
