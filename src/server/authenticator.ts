// What the SMTP server needs from whoever checks SMTP AUTH credentials (auth/, which matches it
// by shape; only cli/wiring.ts builds it). Declared here, by the consumer. The verdict is data:
// the session turns it into 235, 535, or 454, and the listener logs it without the password.

/** One AUTH attempt, decoded from PLAIN or LOGIN. */
export interface CredentialsRequest {
  readonly mechanism: 'PLAIN' | 'LOGIN';
  readonly login: string;
  readonly password: string;
  /** The client's IP address, for counting failures and locking out brute force. */
  readonly clientAddress: string;
}

/** Why credentials were refused; for the log only, the client always hears 535 5.7.8. */
export type RejectReason = 'unknown-user' | 'bad-password' | 'disabled';

/** What the authenticator decided. */
export type AuthVerdict =
  /** The login as stored, and the sender addresses it may use (`local@domain`, or `@domain` for all of a domain). */
  | { readonly kind: 'accepted'; readonly login: string; readonly addresses: readonly string[] }
  /** Wrong credentials; the reply waits `delayMs` once failures pile up. */
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly delayMs: number }
  /** The client's address failed too often and is refused until the lockout ends. */
  | { readonly kind: 'locked-out' }
  /** The user database could not be read: try later (454 4.7.0). */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Checks SMTP AUTH credentials. */
export interface Authenticator {
  /** Verifies one attempt and records its outcome; never rejects (a failure is `unavailable`). */
  verify(request: CredentialsRequest): Promise<AuthVerdict>;
}
