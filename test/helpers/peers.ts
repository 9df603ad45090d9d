// Peer programs for end-to-end tests (swaks, python3, Postfix's smtp-source) and small runners
// for them. A missing peer, or a peer lacking a capability a test uses (swaks without IPv6),
// skips its tests locally with a message; under CI, which installs every peer, the tests run
// anyway and fail with that message.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Finds a program by absolute path or on PATH; undefined when it is not installed. */
export function findProgram(name: string): string | undefined {
  if (path.isAbsolute(name)) return existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, name);
    if (dir !== '' && existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Tells whether tests needing a peer should run: yes when it is installed, and yes under CI
 * (the run then fails on the missing program). Otherwise prints why they are skipped.
 */
export function shouldRunWith(name: string, why: string): boolean {
  if (findProgram(name)) return true;
  if (process.env.CI) return true;
  console.warn(`skipping ${why}: peer "${name}" is not installed (CI installs it)`);
  return false;
}

/**
 * Tells whether a test needing a capability of a peer should run, given why it lacks it
 * (undefined when it has it): yes when it has it, and yes under CI (the test must then fail with
 * the problem, as requireSwaksFeature does). Otherwise prints why the test is skipped.
 */
export function shouldRunDespite(problem: string | undefined, why: string): boolean {
  if (problem === undefined || process.env.CI) return true;
  console.warn(`skipping ${why}: ${problem}`);
  return false;
}

/** The Debian package giving each optional swaks feature we use, by its name in `swaks --support`. */
const SWAKS_FEATURE_PACKAGES: Readonly<Record<string, string>> = {
  IPv6: 'libio-socket-inet6-perl',
  TLS: 'libnet-ssleay-perl',
  'AUTH DIGEST-MD5': 'libauthen-sasl-perl',
};

const swaksSupport = new Map<string, string>();

/**
 * Why swaks cannot do `feature` (a name as `swaks --support` prints it: "IPv6", "TLS"), or
 * undefined when it can. swaks lists each feature as "=== IPv6 supported" or
 * "*** IPv6 not available: requires IO::Socket::INET6"; it takes no feature argument.
 */
export function swaksLacks(swaks: string, feature: string): string | undefined {
  const file = findProgram(swaks);
  if (!file) return `swaks lacks ${feature} support: peer "${swaks}" is not installed`;
  let support = swaksSupport.get(file);
  if (support === undefined) {
    const r = spawnSync(file, ['--support'], { encoding: 'utf8', timeout: 30_000 });
    support = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
    swaksSupport.set(file, support);
  }
  if (support.split('\n').some((line) => line.startsWith(`=== ${feature} supported`))) return undefined;
  const said = support.split('\n').find((line) => line.includes(feature))?.trim() ?? 'nothing about it';
  return `swaks lacks ${feature} support: install ${SWAKS_FEATURE_PACKAGES[feature] ?? 'the Perl module it names'} (swaks --support says: ${said})`;
}

/** Throws the reason when swaks lacks `feature` (under CI such a test runs and must fail so). */
export function requireSwaksFeature(swaks: string, feature: string): void {
  const problem = swaksLacks(swaks, feature);
  if (problem !== undefined) throw new Error(problem);
}

/** Throws a clear error when a peer is missing (under CI the tests run without it and must fail). */
export function requireProgram(name: string): string {
  const found = findProgram(name);
  if (!found) throw new Error(`Cannot find peer program "${name}": CI installs every peer (scripts/ installs them)`);
  return found;
}

/** What a peer program printed and how it exited. */
export interface PeerResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion with a time limit; never rejects on a non-zero exit. */
export function runProgram(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      requireProgram(file),
      [...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`${file} failed: ${err.message}\n${stderr}`));
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * Runs an inline Python 3 script (given on stdin) with arguments in sys.argv[1:]; resolves with
 * what it printed as JSON on its last line. A Python exception rejects with its traceback.
 */
export async function runPython<T>(script: string, args: readonly (string | number)[] = [], timeoutMs = 60_000): Promise<T> {
  const r = await runProgram('python3', ['-', ...args.map(String)], { input: script, timeoutMs });
  if (r.code !== 0) throw new Error(`python3 exited ${r.code}:\n${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
