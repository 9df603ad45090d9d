// The service directories: a missing one is created with its mode and owner, an existing one is
// never touched (Debian's /var/mail is root:mail 2775 and must stay so).
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareServiceDirectory } from '../../../src/system/service-directory.js';

const root = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'mta-svcdir-'));
}

describe('prepareServiceDirectory', () => {
  it('prepareServiceDirectory creates a missing directory with its exact mode and 0755 parents', () => {
    const dir = path.join(tempDir(), 'a/b/queue');
    const umask = process.umask(0o077);
    try {
      expect(prepareServiceDirectory(dir, 0o711)).toBe(true);
    } finally {
      process.umask(umask);
    }
    expect(statSync(dir).mode & 0o7777).toBe(0o711);
    expect(statSync(path.dirname(dir)).mode & 0o777).toBe(0o755);
  });

  it('prepareServiceDirectory leaves the mode of an existing directory alone', () => {
    const dir = path.join(tempDir(), 'mail');
    mkdirSync(dir);
    chmodSync(dir, 0o2775);
    expect(prepareServiceDirectory(dir, 0o755, root ? NOBODY : undefined)).toBe(false);
    const info = statSync(dir);
    expect(info.mode & 0o7777).toBe(0o2775);
    expect(info.uid).toBe(process.getuid?.());
  });

  it.skipIf(!root)('prepareServiceDirectory hands a created directory to the owner', () => {
    const dir = path.join(tempDir(), 'log');
    prepareServiceDirectory(dir, 0o755, NOBODY);
    expect(statSync(dir)).toMatchObject({ uid: NOBODY.uid, gid: NOBODY.gid });
    expect(statSync(path.dirname(dir)).uid).toBe(0);
  });

  it('prepareServiceDirectory refuses a file in the place of the directory', () => {
    const file = path.join(tempDir(), 'queue');
    writeFileSync(file, 'not a directory\n');
    expect(() => prepareServiceDirectory(file, 0o700)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });
});
