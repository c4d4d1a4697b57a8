import type Koa from 'koa';
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

/**
 * Per-client-IP limits on the endpoints a script could hammer (login starts, callbacks, user-code
 * attempts). Counted in the store, so the limit holds across replicas. The client IP is koa's
 * `ctx.ip`: the socket address, or — only when `issuer.trustProxy` is set — the address the proxy in
 * front saw (the last X-Forwarded-For entry; earlier ones are client-controlled).
 */
export class RateLimiter {
  constructor(
    private readonly store: TokenStore,
    private readonly metrics: Pick<Metrics, 'rateLimited'>,
  ) {}

  /**
   * Counts one attempt in `bucket`; past `perMinute` in the current minute, counts the refusal
   * (`kob_rate_limited_total{endpoint}`) and throws ERR_RATE_LIMITED. Call it before the request
   * stores anything: a refused request must cost the store nothing but its counter.
   */
  async check(ctx: Koa.Context, bucket: RateLimitBucket, perMinute: number): Promise<void> {
    await this.checkWindow(ctx, bucket, perMinute, WINDOW_SECONDS);
  }

  /**
   * The per-address budget of records waiting for a person (`issuer.rateLimit.pendingPerAddress` per
   * `issuer.loginStateTTL`, the longest they wait): what an anonymous client can make the store hold.
   */
  async checkPendingBudget(ctx: Koa.Context, issuer: IssuerConfig): Promise<void> {
    await this.checkWindow(ctx, 'pending', issuer.rateLimit.pendingPerAddress, issuer.loginStateTTL);
  }

  /** The same over another window. */
  async checkWindow(
    ctx: Koa.Context,
    bucket: RateLimitBucket,
    limit: number,
    windowSeconds: number,
  ): Promise<void> {
    const count = await this.store.hit(`ratelimit:${bucket}:${ctx.ip}`, windowSeconds);
    if (count > limit) {
      this.metrics.rateLimited.inc({ endpoint: bucket.replaceAll('-', '_') });
      throw new BridgeError('ERR_RATE_LIMITED', `too many ${bucket} attempts from this address`);
    }
  }
}
