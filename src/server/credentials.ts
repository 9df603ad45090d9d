// The listener's side of `verify-credentials`: asks the authenticator and logs the outcome with
// the login and mechanism (the child logger adds the client address), never the password. A
// missing or failing authenticator is a temporary failure (454 4.7.0), not an exception.
import type { Logger } from '../log/logger.js';
import type { Authenticator, AuthVerdict, CredentialsRequest } from './authenticator.js';

/** Verifies one attempt and logs what became of it. */
export async function checkCredentials(authenticator: Authenticator | undefined, request: CredentialsRequest, log: Logger): Promise<AuthVerdict> {
  const verdict: AuthVerdict = authenticator
    ? await authenticator.verify(request).catch((err: unknown) => ({ kind: 'unavailable' as const, reason: err instanceof Error ? err.message : String(err) }))
    : { kind: 'unavailable', reason: 'no authenticator configured' };
  const { login, mechanism } = request;
  switch (verdict.kind) {
    case 'accepted':
      log.info({ login: verdict.login, mechanism }, 'authenticated');
      break;
    case 'rejected':
      log.warn({ login, mechanism, reason: verdict.reason }, 'authentication failed');
      break;
    case 'locked-out':
      log.warn({ login, mechanism }, 'authentication refused: address locked out');
      break;
    case 'unavailable':
      log.error({ login, mechanism, err: verdict.reason }, 'cannot check credentials');
      break;
  }
  return verdict;
}
