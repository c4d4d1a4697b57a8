import { randomId } from '../../core/token-format.js';
import type { TokenStore } from '../../store/index.js';

/**
 * The CLI's authorization request (RFC 6749 §4.1.1), validated and parked while the person signs in
 * upstream (store namespace `login`, key `authorize:<request id>`, TTL `issuer.loginStateTTL`). The
 * request id travels in the login's purpose and, with several upstreams, in the choice page's links.
 * This model owns those keys; the login's finish takes the request once.
 */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state?: string;
  codeChallenge: string;
  audience: string;
}

const key = (requestId: string) => `authorize:${requestId}`;

export class PendingAuthorizations {
  constructor(private readonly store: TokenStore) {}

  /** Parks a validated request under a fresh random id, which it returns. */
  async park(request: PendingAuthorization, ttl: number): Promise<string> {
    const requestId = randomId();
    await this.store.putEphemeral('login', key(requestId), request, ttl);
    return requestId;
  }

  /** Reads a parked request without using it (the upstream choice step). */
  find(requestId: string): Promise<PendingAuthorization | undefined> {
    return requestId
      ? this.store.getEphemeral<PendingAuthorization>('login', key(requestId))
      : Promise.resolve(undefined);
  }

  /** Uses a parked request: atomic get-and-delete, so one login answers it once. */
  take(requestId: string): Promise<PendingAuthorization | undefined> {
    return this.store.takeEphemeral<PendingAuthorization>('login', key(requestId));
  }
}
