import type { IssuerConfig } from '../../config/index.js';
import { BridgeError } from '../../core/errors.js';
import type { Metrics } from '../../http/index.js';
import type { TokenStore } from '../../store/index.js';

const WINDOW_SECONDS = 60;

/** What is limited; also the `endpoint` label of `kob_rate_limited_total` (dashes become underscores). */
export type RateLimitBucket =
  | 'login'
  | 'callback'
  | 'user-code'
  | 'authorize'
  | 'device-authorization'
  | 'token'
  | 'pending';

/** One limit: how many attempts per window, for one bucket. */
export interface RateLimit {
  bucket: RateLimitBucket;
  limit: number;
  /** Seconds; default one minute. */
  windowSeconds?: number;
}

/**
 * The per-address budget of records waiting for a person (`issuer.rateLimit.pendingPerAddress` per
 * `issuer.loginStateTTL`, the longest they wait): what an anonymous client can make the store hold.
 */
export function pendingBudget(issuer: IssuerConfig): RateLimit {
  return {
    bucket: 'pending',
    limit: issuer.rateLimit.pendingPerAddress,
    windowSeconds: issuer.loginStateTTL,
  };
}

/**
 * Per-client-address limits on the endpoints a script could hammer (login starts, callbacks, user-code
 * attempts). Counted in the store, so the limit holds across replicas. The address is the client's as
 * web/client-address.ts found it: the socket address, or — only through the proxies `issuer.trustProxy`
 * names — the first X-Forwarded-For hop, from the right, that is not one of them.
 *
 * Check a request before it stores anything: a refused request must cost the store nothing but its
 * counter.
 */
export class RateLimiter {
  constructor(
    private readonly store: TokenStore,
    private readonly metrics: Pick<Metrics, 'rateLimited'>,
  ) {}

  /**
   * Counts one attempt from `address` against each limit in turn; false at the first one past its
   * limit, whose refusal is counted (`kob_rate_limited_total{endpoint}`). Use cases return the refusal
   * as a value.
   */
  async allow(address: string, ...limits: RateLimit[]): Promise<boolean> {
    return (await this.#refusedBy(address, limits)) === undefined;
  }

  /** `allow`, or ERR_RATE_LIMITED: for JSON endpoints, whose error middleware answers the 429. */
  async check(address: string, ...limits: RateLimit[]): Promise<void> {
    const refused = await this.#refusedBy(address, limits);
    if (refused) throw new BridgeError('ERR_RATE_LIMITED', `too many ${refused} attempts from this address`);
  }

  async #refusedBy(address: string, limits: RateLimit[]): Promise<RateLimitBucket | undefined> {
    for (const { bucket, limit, windowSeconds = WINDOW_SECONDS } of limits) {
      const count = await this.store.hit(`ratelimit:${bucket}:${address}`, windowSeconds);
      if (count > limit) {
        this.metrics.rateLimited.inc({ endpoint: bucket.replaceAll('-', '_') });
        return bucket;
      }
    }
    return undefined;
  }
}
