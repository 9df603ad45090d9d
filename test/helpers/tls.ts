// Test certificates made with openssl (a peer we did not write): a CA, a server certificate it
// signed for mx.test, localhost, 127.0.0.1 and ::1, and a second one for SNI. Clients verify
// against ca.pem. Also a user helper: `mta user add` with the password on stdin.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MTA } from './server.js';

/** The files of a test PKI. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  /** Server certificate (leaf then CA: a chain) and key for mx.test. */
  readonly cert: string;
  readonly key: string;
  /** One file with a chain and key for sni.test (an SNI certificate). */
  readonly sniCombined: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', [...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, cn: string, san: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.leaf.pem`, '-extfile', `${name}.ext`], dir);
}

/** Makes a CA and the server certificates under `dir`/pki; keys are 0600 (root-only when run as root). */
export function makeTestPki(dir: string): TestPki {
  const pki = path.join(dir, 'pki');
  mkdirSync(pki, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=mta test CA'], pki);
  issue(pki, 'server', 'mx.test', 'DNS:mx.test,DNS:localhost,IP:127.0.0.1,IP:::1');
  issue(pki, 'sni', 'sni.test', 'DNS:sni.test');
  const ca = readFileSync(path.join(pki, 'ca.pem'), 'utf8');
  writeFileSync(path.join(pki, 'server.pem'), readFileSync(path.join(pki, 'server.leaf.pem'), 'utf8') + ca);
  writeFileSync(path.join(pki, 'sni-combined.pem'), readFileSync(path.join(pki, 'sni.leaf.pem'), 'utf8') + ca + readFileSync(path.join(pki, 'sni.key'), 'utf8'));
  for (const file of ['server.key', 'sni.key', 'sni-combined.pem', 'ca.key']) chmodSync(path.join(pki, file), 0o600);
  return { dir: pki, caCert: path.join(pki, 'ca.pem'), cert: path.join(pki, 'server.pem'), key: path.join(pki, 'server.key'), sniCombined: path.join(pki, 'sni-combined.pem') };
}

/** The `tls = { ... };` group for a test config. */
export function tlsSettings(pki: TestPki, withSni = false): string {
  return `tls = { certificate = "${pki.cert}"; key = "${pki.key}"; ${withSni ? `sni_certificates = [ "${pki.sniCombined}" ];` : ''} };`;
}

/** Runs `mta ARGS -f CONFIG` with `input` on stdin; resolves with its exit code and output. */
export function runMtaCommand(configPath: string, args: readonly string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MTA, ...args, '-f', configPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Adds a user with `mta user add LOGIN --password-stdin [--address A]...`; throws on failure. */
export async function addUser(configPath: string, login: string, password: string, addresses: readonly string[] = []): Promise<void> {
  const r = await runMtaCommand(configPath, ['user', 'add', login, '--password-stdin', ...addresses.flatMap((a) => ['--address', a])], `${password}\n`);
  if (r.code !== 0) throw new Error(`mta user add ${login} failed (${r.code}): ${r.stderr}`);
}
