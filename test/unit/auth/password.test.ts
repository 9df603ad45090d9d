import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, hashPassword, parseHash, verifyPassword } from '../../../src/auth/password.js';

const FAST = { memoryKiB: 64, passes: 1, parallelism: 1 };
// Made by Dovecot 2.3 (libsodium): doveadm pw -s ARGON2ID -p secret, without the {ARGON2ID} prefix.
const DOVECOT_HASH = '$argon2id$v=19$m=65536,t=3,p=1$bWKUgWhED5lTUjJfqKb/MQ$I9TdMl1EGKdUTBj1C0TGs/KEbExBLP8POQhctjG7urI';

describe('password', () => {
  it('hashPassword writes a PHC string with the default cost and a fresh salt', async () => {
    const a = await hashPassword('secret');
    const b = await hashPassword('secret');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(parseHash(a)?.params).toEqual(DEFAULT_PARAMS);
  });

  it('verifyPassword accepts the password and refuses any other', async () => {
    const hash = await hashPassword('gr\u00fc\u00dfe 123', FAST);
    expect(await verifyPassword(hash, 'gr\u00fc\u00dfe 123')).toBe(true);
    expect(await verifyPassword(hash, 'gr\u00fc\u00dfe 124')).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
  });

  it('verifyPassword verifies a hash Dovecot made, with its own cost parameters', async () => {
    expect(await verifyPassword(DOVECOT_HASH, 'secret')).toBe(true);
    expect(await verifyPassword(DOVECOT_HASH, 'Secret')).toBe(false);
  });

  it('verifyPassword refuses strings that are not usable Argon2id hashes', async () => {
    for (const bad of ['', 'secret', '{PLAIN}secret', DOVECOT_HASH.replace('argon2id', 'argon2i'), DOVECOT_HASH.replace('m=65536', 'm=99999999'), DOVECOT_HASH.replace('v=19', 'v=16')]) {
      expect(await verifyPassword(bad, 'secret'), bad).toBe(false);
    }
  });
});
