// Server certificates: reading the PEM files (as root, before the privilege drop) into plain
// strings that can travel to the workers over IPC, and building the TLS contexts from them in
// the worker (TLS 1.2 at least, a certificate per SNI name). Reads files only in loadServerKeys;
// knows nothing of SMTP. The client side (relay) has its own contexts.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/** One certificate chain with its key, as PEM text, and the names it serves. */
export interface PemPair {
  /** The leaf certificate followed by its chain. */
  readonly certificate: string;
  readonly key: string;
  /** DNS names of the leaf (subjectAltName, else the common name), lower-cased; `*.` wildcards kept. */
  readonly names: readonly string[];
  /** The leaf's notAfter, as an ISO date. */
  readonly validTo: string;
  /** The file(s) it came from, for messages. */
  readonly source: string;
}

/** Every certificate the server offers: JSON-safe, so the supervisor can ship it to the workers. */
export interface ServerKeys {
  readonly primary: PemPair;
  readonly sni: readonly PemPair[];
}

/** The files to read, as configured. */
export interface ServerKeyFiles {
  readonly certificate: string;
  readonly key: string;
  /** Files each holding a chain and its key. */
  readonly sniCertificates: readonly string[];
}

/** A certificate or key that cannot be used; the message names the file and why. */
export class TlsKeyError extends Error {
  readonly code = 'MTA_ERR_TLS_KEY';
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** Splits PEM text into its blocks by label (CERTIFICATE, PRIVATE KEY...). */
function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1] as string, pem: `${m[0]}\n` }));
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TlsKeyError(`cannot read TLS ${what} ${file}: ${e.code ?? e.message}`);
  }
}

/** Returns the leaf's DNS names: subjectAltName DNS entries, else the subject's CN. */
function namesOf(leaf: X509Certificate): string[] {
  const san = (leaf.subjectAltName ?? '').split(/,\s*/).filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
  if (san.length > 0) return san;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(leaf.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/** Checks a chain and key and describes them; throws TlsKeyError with the reason. */
function pair(certText: string, keyText: string, source: string): PemPair {
  const certs = pemBlocks(certText).filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) throw new TlsKeyError(`no PEM certificate in ${source}`);
  const keys = pemBlocks(keyText).filter((b) => b.label.endsWith('PRIVATE KEY'));
  const key = keys[0];
  if (!key) throw new TlsKeyError(`no PEM private key in ${source}`);
  if (key.label === 'ENCRYPTED PRIVATE KEY') throw new TlsKeyError(`the private key in ${source} is encrypted; mta needs it without a passphrase`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate((certs[0] as { pem: string }).pem);
  } catch (err) {
    throw new TlsKeyError(`cannot parse the certificate in ${source}: ${(err as Error).message}`);
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key.pem))) throw new TlsKeyError(`the private key does not match the certificate in ${source}`);
  } catch (err) {
    if (err instanceof TlsKeyError) throw err;
    throw new TlsKeyError(`cannot parse the private key in ${source}: ${(err as Error).message}`);
  }
  const certificate = certs.map((c) => c.pem).join('');
  return { certificate, key: key.pem, names: namesOf(leaf), validTo: new Date(leaf.validTo).toISOString(), source };
}

/** Reads and checks every configured certificate and key; throws TlsKeyError naming the file. */
export function loadServerKeys(files: ServerKeyFiles): ServerKeys {
  const primary = pair(read(files.certificate, 'certificate'), read(files.key, 'key'), `${files.certificate} and ${files.key}`);
  const sni = files.sniCertificates.map((file) => {
    const text = read(file, 'certificate');
    return pair(text, text, file);
  });
  return { primary, sni };
}

/** What a server-side TLSSocket needs: the default context, and the SNI choice when there are more. */
export interface ServerTlsOptions {
  readonly secureContext: tls.SecureContext;
  readonly SNICallback?: (servername: string, callback: (err: Error | null, ctx?: tls.SecureContext) => void) => void;
}

/** The minimum protocol: TLS 1.0 and 1.1 are deprecated (RFC 8996), and RFC 8314 asks for 1.2. */
export const MIN_TLS_VERSION = 'TLSv1.2';

function contextOf(p: PemPair): tls.SecureContext {
  // Node's default cipher list has no NULL, EXPORT, RC4, DES or MD5 suites.
  return tls.createSecureContext({ cert: p.certificate, key: p.key, minVersion: MIN_TLS_VERSION });
}

/** Tells whether `name` is matched by a certificate name, `*.example.org` matching one label. */
export function nameMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === name;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot) === pattern.slice(1);
}

/** Builds the contexts from loaded keys; a client naming an SNI certificate's name gets that one. */
export function serverTlsOptions(keys: ServerKeys): ServerTlsOptions {
  const secureContext = contextOf(keys.primary);
  if (keys.sni.length === 0) return { secureContext };
  const byName = keys.sni.map((p) => ({ names: p.names, context: contextOf(p) }));
  return {
    secureContext,
    SNICallback: (servername, callback) => {
      const name = servername.toLowerCase();
      const found = byName.find((entry) => entry.names.some((pattern) => nameMatches(pattern, name)));
      callback(null, found?.context ?? secureContext);
    },
  };
}
