// Checks SMTP AUTH credentials against the user database, with the failure counters of
// failures.ts. Matches server/'s Authenticator by shape (cli/wiring.ts checks that). The
// database is opened lazily in the worker and read at every attempt, so `mta user` changes take
// effect at the next AUTH without a reload. An unknown login costs the same Argon2 work as a
// wrong password, so timing does not tell which logins exist.
import { FailureTracker } from './failures.js';
import { hashPassword, verifyPassword } from './password.js';
import { UserDatabase } from './user-db.js';

/** One attempt, as the SMTP session decoded it. */
export interface CredentialsAttempt {
  readonly login: string;
  readonly password: string;
  readonly clientAddress: string;
}

/** The outcome of one attempt (the shape of server/'s AuthVerdict). */
export type CredentialsVerdict =
  | { readonly kind: 'accepted'; readonly login: string; readonly addresses: readonly string[] }
  | { readonly kind: 'rejected'; readonly reason: 'unknown-user' | 'bad-password' | 'disabled'; readonly delayMs: number }
  | { readonly kind: 'locked-out' }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface UserAuthenticatorOptions {
  /** The SQLite file; it must exist (the daemon creates it at start-up). */
  readonly database: string;
  readonly maxFailures: number;
  readonly lockoutMs: number;
  /** @default Date.now */
  readonly nowMs?: () => number;
}

/** Verifies logins and passwords of the user database. */
export class UserAuthenticator {
  private db: UserDatabase | undefined;
  private dummyHash: Promise<string> | undefined;
  private readonly nowMs: () => number;

  constructor(private readonly options: UserAuthenticatorOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Verifies one attempt and records its outcome; never rejects. */
  async verify(attempt: CredentialsAttempt): Promise<CredentialsVerdict> {
    try {
      return await this.check(attempt);
    } catch (err) {
      // A broken handle is opened afresh at the next attempt.
      this.close();
      return { kind: 'unavailable', reason: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Closes the database; the next attempt opens it again. */
  close(): void {
    this.db?.close();
    this.db = undefined;
  }

  private async check({ login, password, clientAddress }: CredentialsAttempt): Promise<CredentialsVerdict> {
    const db = (this.db ??= UserDatabase.open(this.options.database, { create: false }));
    const tracker = new FailureTracker(db, this.options);
    if (tracker.isLockedOut(clientAddress, this.nowMs())) return { kind: 'locked-out' };
    const user = db.find(login);
    const isMatch = await verifyPassword(user?.passwordHash ?? (await this.unknownUserHash()), password);
    if (user && isMatch && user.isEnabled) {
      tracker.recordSuccess(user.login);
      return { kind: 'accepted', login: user.login, addresses: user.addresses };
    }
    const reason = !user ? 'unknown-user' : !isMatch ? 'bad-password' : 'disabled';
    const { delayMs } = tracker.recordFailure(clientAddress, login, this.nowMs());
    return { kind: 'rejected', reason, delayMs };
  }

  /** A hash of a random password, made once, to verify against when the login does not exist. */
  private unknownUserHash(): Promise<string> {
    return (this.dummyHash ??= hashPassword(Math.random().toString(36)));
  }
}
