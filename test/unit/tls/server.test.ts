// Loading certificates made by openssl (a peer we did not write) into the JSON-safe keys the
// supervisor ships to workers, and the SNI choice. No sockets: the handshakes are e2e tests.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadServerKeys, nameMatches, serverTlsOptions, TlsKeyError } from '../../../src/tls/server.js';
import { makeTestPki, type TestPki } from '../../helpers/tls.js';

let pki: TestPki;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mta-tls-'));
  pki = makeTestPki(dir);
});

describe('tls server keys', () => {
  it('loadServerKeys reads the chain and key as PEM text with the names and expiry', () => {
    const keys = loadServerKeys({ certificate: pki.cert, key: pki.key, sniCertificates: [pki.sniCombined] });
    expect(keys.primary.certificate.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(keys.primary.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(keys.primary.names).toEqual(['mx.test', 'localhost']);
    expect(Date.parse(keys.primary.validTo)).toBeGreaterThan(Date.now());
    expect(keys.sni).toHaveLength(1);
    expect(keys.sni[0]?.names).toEqual(['sni.test']);
    // JSON over IPC must give the same keys back.
    expect(JSON.parse(JSON.stringify(keys))).toEqual(keys);
  });

  it('loadServerKeys names the file that is missing, mismatched or not PEM', () => {
    const other = path.join(pki.dir, 'sni.key');
    const garbage = path.join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const cases: [Parameters<typeof loadServerKeys>[0], RegExp][] = [
      [{ certificate: path.join(dir, 'missing.pem'), key: pki.key, sniCertificates: [] }, /cannot read TLS certificate .*missing\.pem: ENOENT/],
      [{ certificate: pki.cert, key: other, sniCertificates: [] }, /private key does not match the certificate/],
      [{ certificate: garbage, key: pki.key, sniCertificates: [] }, /no PEM certificate in .*garbage\.pem/],
      [{ certificate: pki.cert, key: pki.cert, sniCertificates: [] }, /no PEM private key/],
      [{ certificate: pki.cert, key: pki.key, sniCertificates: [pki.cert] }, /no PEM private key in .*server\.pem/],
    ];
    for (const [files, message] of cases) expect(() => loadServerKeys(files)).toThrow(message);
    expect(() => loadServerKeys(cases[0]?.[0] as Parameters<typeof loadServerKeys>[0])).toThrow(TlsKeyError);
  });

  it('loadServerKeys refuses an encrypted key', () => {
    const encrypted = path.join(dir, 'encrypted.key');
    writeFileSync(encrypted, `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${readFileSync(pki.key, 'utf8').split('\n').slice(1, 3).join('\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`);
    expect(() => loadServerKeys({ certificate: pki.cert, key: encrypted, sniCertificates: [] })).toThrow(/encrypted/);
  });

  it('nameMatches takes exact names and one-label wildcards', () => {
    expect(nameMatches('mx.test', 'mx.test')).toBe(true);
    expect(nameMatches('*.example.org', 'mail.example.org')).toBe(true);
    expect(nameMatches('*.example.org', 'example.org')).toBe(false);
    expect(nameMatches('*.example.org', 'a.b.example.org')).toBe(false);
  });

  it('serverTlsOptions picks the SNI context by name and the primary one otherwise', () => {
    const keys = loadServerKeys({ certificate: pki.cert, key: pki.key, sniCertificates: [pki.sniCombined] });
    const options = serverTlsOptions(keys);
    const pick = (name: string) => new Promise<tls.SecureContext | undefined>((resolve) => options.SNICallback?.(name, (_err, ctx) => resolve(ctx)));
    return Promise.all([pick('SNI.test'), pick('mx.test'), pick('other.test')]).then(([sni, mx, other]) => {
      expect(sni).not.toBe(options.secureContext);
      expect(mx).toBe(options.secureContext);
      expect(other).toBe(options.secureContext);
      expect(serverTlsOptions({ primary: keys.primary, sni: [] }).SNICallback).toBeUndefined();
    });
  });
});
