// testssl.sh (Debian's testssl.sh package, a scanner we did not write) against the implicit TLS
// port and STARTTLS on the smtp port: no protocol below TLS 1.2, no NULL, anonymous, EXPORT, LOW
// or RC4 ciphers. Only the protocol and cipher-category checks run (-p -s -4): a full scan takes
// many minutes on a small machine. docs/operations.md ("Certificates") records a summary.
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram, shouldRunWith } from '../helpers/peers.js';
import { freePort, type RunningServer, startServer } from '../helpers/server.js';
import { makeTestPki, tlsSettings } from '../helpers/tls.js';

const TESTSSL = '/usr/bin/testssl';
const SCAN_MS = 600_000;

interface Finding {
  readonly id: string;
  readonly severity: string;
  readonly finding: string;
}

// The two scans run side by side: each mostly waits on openssl handshakes.
describe.skipIf(!shouldRunWith(TESTSSL, 'testssl.sh scans')).concurrent('testssl', () => {
  let server: RunningServer;
  let submissions = 0;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mta-testssl-'));
    chmodSync(dir, 0o755);
    submissions = await freePort();
    server = await startServer({ dir, awaitGreeting: true, extraListen: [`127.0.0.1:${submissions}/submissions`], top: tlsSettings(makeTestPki(dir)) });
  });

  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  /** Scans one target and returns its findings by id. */
  async function scan(name: string, ...target: string[]): Promise<Map<string, Finding>> {
    const json = path.join(dir, `${name}.json`);
    const r = await runProgram(TESTSSL, ['--quiet', '--color', '0', '--warnings', 'off', '--jsonfile', json, '-p', '-s', '-4', ...target], { timeoutMs: SCAN_MS });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const findings = JSON.parse(readFileSync(json, 'utf8')) as Finding[];
    return new Map(findings.map((f) => [f.id, f]));
  }

  function expectStrong(findings: Map<string, Finding>): void {
    for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) expect(findings.get(id)?.finding, id).toBe('not offered');
    expect(findings.get('TLS1_2')?.finding).toBe('offered');
    expect(findings.get('TLS1_3')?.finding).toMatch(/^offered/);
    for (const id of ['cipherlist_NULL', 'cipherlist_aNULL', 'cipherlist_EXPORT', 'cipherlist_LOW']) {
      expect(findings.get(id), id).toMatchObject({ severity: 'OK', finding: 'not offered' });
    }
    expect(findings.get('RC4')).toMatchObject({ severity: 'OK' });
    expect(findings.get('cipherlist_STRONG')?.finding).toBe('offered');
  }

  it('testssl: the submissions port offers TLS 1.2 and 1.3 only, and no NULL, EXPORT, LOW or RC4 cipher', async () => {
    expectStrong(await scan('submissions', `127.0.0.1:${submissions}`));
  }, SCAN_MS);

  it('testssl: STARTTLS on the smtp port offers TLS 1.2 and 1.3 only, and no NULL, EXPORT, LOW or RC4 cipher', async () => {
    expectStrong(await scan('starttls', '-t', 'smtp', `127.0.0.1:${server.port}`));
  }, SCAN_MS);
});
