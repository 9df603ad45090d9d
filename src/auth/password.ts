// Password hashes: Argon2id (RFC 9106) through Node's crypto.argon2, stored as PHC strings,
// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (base64 without padding), the format of the
// reference implementation and of libsodium, so Dovecot's ARGON2ID scheme verifies the same
// strings (`doveadm pw -t '{ARGON2ID}$argon2id$...'`). Hashing runs on the libuv thread pool.
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

/** Cost parameters of one hash. */
export interface Argon2Params {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
}

/**
 * OWASP's Argon2id minimum (19 MiB, 2 passes), with one lane as libsodium (and so Dovecot)
 * computes it. Hashes keep their own parameters, so raising these later re-hashes nothing.
 */
export const DEFAULT_PARAMS: Argon2Params = { memoryKiB: 19_456, passes: 2, parallelism: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const VERSION = 19; // 0x13
// Bounds on parameters read back from the database, so a bad row cannot make us allocate gigabytes.
const MAX_MEMORY_KIB = 1 << 20;
const MAX_PASSES = 64;
const MAX_PARALLELISM = 16;

const PHC = /^\$argon2id\$v=19\$m=(\d{1,8}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{16,})$/;

interface ParsedHash {
  readonly params: Argon2Params;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const unpadded = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

function derive(password: string, salt: Buffer, params: Argon2Params, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      { message: password, nonce: salt, parallelism: params.parallelism, tagLength: length, memory: params.memoryKiB, passes: params.passes },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** Reads a PHC string of ours or Dovecot's; undefined when it is not a usable Argon2id hash. */
export function parseHash(phc: string): ParsedHash | undefined {
  const m = PHC.exec(phc);
  if (!m) return undefined;
  const params = { memoryKiB: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
  if (params.memoryKiB > MAX_MEMORY_KIB || params.passes < 1 || params.passes > MAX_PASSES) return undefined;
  if (params.parallelism < 1 || params.parallelism > MAX_PARALLELISM || params.memoryKiB < 8 * params.parallelism) return undefined;
  return { params, salt: Buffer.from(m[4] as string, 'base64'), hash: Buffer.from(m[5] as string, 'base64') };
}

/** Hashes a password with a fresh random salt; resolves with the PHC string to store. */
export async function hashPassword(password: string, params: Argon2Params = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `$argon2id$v=${VERSION}$m=${params.memoryKiB},t=${params.passes},p=${params.parallelism}$${unpadded(salt)}$${unpadded(hash)}`;
}

/** Tells whether the password matches a stored PHC string; false for a string that is not one. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  const parsed = parseHash(phc);
  if (!parsed) return false;
  const computed = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(computed, parsed.hash);
}
