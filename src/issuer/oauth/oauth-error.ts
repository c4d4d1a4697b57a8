import type Koa from 'koa';
import { isBridgeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/**
 * RFC 6749 §5.2 error codes, plus RFC 8628 §3.5 (device polling), RFC 8707 §2 (`invalid_target`) and
 * RFC 6750 §3.1 (`invalid_token`).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_token';

/**
 * The one table from OAuth error to HTTP status for the issuer's JSON endpoints. RFC 6749 §5.2: 400
 * unless the client failed to authenticate (401); RFC 6750 §3.1: 401 for a bad bearer token; the
 * device-flow answers (RFC 8628 §3.5) are 400s the client keeps polling through.
 */
export const OAUTH_ERROR_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_target: 400,
  access_denied: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  invalid_token: 401,
};

/**
 * The one Retry-After policy of the issuer: a broken store or an unreachable IdP is worth retrying in
 * a second; a rate limit lifts when its one-minute window ends.
 */
export const RETRY_AFTER_SECONDS = { unavailable: 1, rateLimited: 60 } as const;

/** Token-endpoint responses must not be cached (RFC 6749 §5.1). */
export function noStore(ctx: Koa.Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** A JSON error body as RFC 6749 §5.2 describes; the description never contains a credential. */
export function sendOAuthError(ctx: Koa.Context, error: OAuthErrorCode, description?: string): void {
  noStore(ctx);
  const status = OAUTH_ERROR_STATUS[error];
  // RFC 6749 §5.2: a failed client authentication answers 401 with a challenge.
  if (error === 'invalid_client') ctx.set('WWW-Authenticate', 'Basic realm="kube-oidc-bridge"');
  if (error === 'temporarily_unavailable') ctx.set('Retry-After', String(RETRY_AFTER_SECONDS.unavailable));
  ctx.status = status;
  ctx.body = description ? { error, error_description: description } : { error };
}

/**
 * A rate-limited JSON request: 429 with Retry-After (RFC 6585 §4). OAuth has no error code for it;
 * `temporarily_unavailable` tells an OAuth client to come back later.
 */
export function sendRateLimited(ctx: Koa.Context): void {
  noStore(ctx);
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS.rateLimited));
  ctx.status = 429;
  ctx.body = { error: 'temporarily_unavailable', error_description: 'too many requests; try again later' };
}

/** A successful JSON answer from the token or device endpoints. */
export function sendOAuthJson(ctx: Koa.Context, body: object): void {
  noStore(ctx);
  ctx.status = 200;
  ctx.body = body;
}

/**
 * For the JSON endpoints: a broken store or an unreachable IdP becomes RFC 6749's
 * `temporarily_unavailable` (503, Retry-After) rather than the generic error body, so OAuth clients
 * report it properly and retry; a rate limit becomes 429. Logged with the error code only.
 */
export function oauthInfrastructureErrors(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isBridgeError(err)) throw err;
      if (err.code === 'ERR_RATE_LIMITED') return sendRateLimited(ctx);
      if (err.code === 'ERR_SESSION_ENDED')
        return sendOAuthError(ctx, 'invalid_grant', 'the session has ended');
      if (err.code !== 'ERR_STORE_UNAVAILABLE' && err.code !== 'ERR_UPSTREAM') throw err;
      logger.error({ err, path: ctx.path }, 'oauth endpoint failed');
      sendOAuthError(ctx, 'temporarily_unavailable', 'try again in a moment');
    }
  };
}
