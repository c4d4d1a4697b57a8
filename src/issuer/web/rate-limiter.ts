import type Koa from 'koa';
import { BridgeError } from '../../core/errors.js';
import type { TokenStore } from '../../store/index.js';

const WINDOW_SECONDS = 60;

/**
 * Per-client-IP limits on the endpoints a script could hammer (login starts, callbacks, user-code
 * attempts). Counted in the store, so the limit holds across replicas. The client IP is koa's
 * `ctx.ip`: the socket address, or — only when `issuer.trustProxy` is set — the address the proxy in
 * front saw (the last X-Forwarded-For entry; earlier ones are client-controlled).
 */
export class RateLimiter {
  constructor(private readonly store: TokenStore) {}

  /** Counts one attempt in `bucket`; throws ERR_RATE_LIMITED past `perMinute` in the current minute. */
  async check(ctx: Koa.Context, bucket: string, perMinute: number): Promise<void> {
    const count = await this.store.hit(`ratelimit:${bucket}:${ctx.ip}`, WINDOW_SECONDS);
    if (count > perMinute) {
      throw new BridgeError('ERR_RATE_LIMITED', `too many ${bucket} attempts from this address`);
    }
  }
}
