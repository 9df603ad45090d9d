// Privileges: name resolution against the real /etc/passwd and /etc/group, and, as root, the drop
// itself in a child process (the test runner must keep its own uid): afterwards setuid(0) fails.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PrivilegeError, resolveIdentity } from '../../../src/system/privileges.js';

const root = process.getuid?.() === 0;
const PRIVILEGES = path.resolve(__dirname, '../../../src/system/privileges.ts');

describe('privileges', () => {
  it('privileges resolve nobody with its primary group', () => {
    expect(resolveIdentity('nobody', null)).toMatchObject({ user: 'nobody', uid: 65534 });
  });

  it('privileges refuse a user that does not exist', () => {
    expect(() => resolveIdentity('mta-no-such-user', null)).toThrow(new PrivilegeError('user "mta-no-such-user" does not exist'));
  });

  it('privileges refuse a group that does not exist', () => {
    expect(() => resolveIdentity('nobody', 'mta-no-such-group')).toThrow(new PrivilegeError('group "mta-no-such-group" does not exist'));
  });

  it('privileges refuse root as the service user', () => {
    expect(() => resolveIdentity('root', null)).toThrow(/is root/);
  });

  it.skipIf(!root)('privileges drop groups, gid and uid so that setuid(0) fails afterwards', async () => {
    // Node strips the types of privileges.ts itself; it imports nothing from src/.
    const script = `
      const m = await import(${JSON.stringify(PRIVILEGES)});
      m.dropPrivileges(m.resolveIdentity('nobody', null));
      let regained = true;
      try { process.setuid(0); } catch { regained = false; }
      console.log(JSON.stringify({ uid: process.getuid(), euid: process.geteuid(), gid: process.getgid(), groups: process.getgroups(), regained }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--no-warnings', '--input-type=module', '-e', script]);
    const gid = resolveIdentity('nobody', null).gid;
    expect(JSON.parse(stdout)).toEqual({ uid: 65534, euid: 65534, gid, groups: [gid], regained: false });
  });
});
