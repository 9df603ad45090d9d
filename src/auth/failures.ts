// Brute-force defence for AUTH: failures are counted per client address (IPv6 by its /64, which
// one host usually holds whole) and per login, in the user database so that every worker sees
// the same counts. After SLOW_AFTER failures of either, each further failed reply is held a little
// longer; once an address reaches maxFailures it is locked out for lockoutMs, as fail2ban would
// do from the log. Failures older than lockoutMs are forgotten. The clock is injected.
import ipaddr from 'ipaddr.js';
import type { FailureRecord } from './user-db.js';

/** Where the counters live (UserDatabase). */
export interface FailureStore {
  failure(key: string): FailureRecord | undefined;
  saveFailure(key: string, record: FailureRecord): void;
  clearFailure(key: string): void;
  pruneFailures(beforeMs: number): void;
}

export interface FailurePolicy {
  /** Failures from one address that lock it out. */
  readonly maxFailures: number;
  /** How long a lockout lasts, and how long a failure is remembered. */
  readonly lockoutMs: number;
}

/** Failures of an address or login after which replies slow down. */
export const SLOW_AFTER = 3;
/** The added wait per failure past SLOW_AFTER, and its cap. */
export const SLOW_STEP_MS = 1000;
export const MAX_SLOW_MS = 5000;

/** Returns the counter key of a client address: IPv4 as it is, IPv6 by its /64 network. */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return `ip:${address}`;
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return `ip:${ip.toString()}`;
  const prefix = ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/64`);
  return `ip:${prefix.toString()}/64`;
}

/** Returns the counter key of a login. */
export function loginKey(login: string): string {
  return `login:${login.toLowerCase()}`;
}

/** Counts failures and tells when to slow down or refuse. */
export class FailureTracker {
  constructor(
    private readonly store: FailureStore,
    private readonly policy: FailurePolicy,
  ) {}

  /** Tells whether the address is locked out at `nowMs`. */
  isLockedOut(address: string, nowMs: number): boolean {
    return (this.store.failure(addressKey(address))?.lockedUntilMs ?? 0) > nowMs;
  }

  /** Records a failure of `login` from `address`; returns how long to hold the 535. */
  recordFailure(address: string, login: string, nowMs: number): { delayMs: number } {
    const byAddress = this.bump(addressKey(address), nowMs, true);
    const byLogin = this.bump(loginKey(login), nowMs, false);
    this.store.pruneFailures(nowMs - this.policy.lockoutMs);
    const worst = Math.max(byAddress, byLogin);
    return { delayMs: worst < SLOW_AFTER ? 0 : Math.min((worst - SLOW_AFTER + 1) * SLOW_STEP_MS, MAX_SLOW_MS) };
  }

  /** Records a success: the login's own failures are forgotten (its owner knows the password). */
  recordSuccess(login: string): void {
    this.store.clearFailure(loginKey(login));
  }

  /** Adds one failure to a key; returns the count (before a lockout resets it). */
  private bump(key: string, nowMs: number, mayLock: boolean): number {
    const old = this.store.failure(key);
    const isFresh = old !== undefined && nowMs - old.lastFailureMs <= this.policy.lockoutMs;
    const failures = (isFresh ? old.failures : 0) + 1;
    const lockedUntilMs = old?.lockedUntilMs ?? 0;
    if (mayLock && failures >= this.policy.maxFailures) {
      this.store.saveFailure(key, { failures: 0, lastFailureMs: nowMs, lockedUntilMs: nowMs + this.policy.lockoutMs });
    } else {
      this.store.saveFailure(key, { failures, lastFailureMs: nowMs, lockedUntilMs });
    }
    return failures;
  }
}
