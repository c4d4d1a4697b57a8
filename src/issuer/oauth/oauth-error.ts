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
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_token';

/** Token-endpoint responses must not be cached (RFC 6749 §5.1). */
export function noStore(ctx: Koa.Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** A JSON error body as RFC 6749 §5.2 describes; the description never contains a credential. */
export function sendOAuthError(
  ctx: Koa.Context,
  status: number,
  error: OAuthErrorCode,
  description?: string,
): void {
  noStore(ctx);
  // RFC 6749 §5.2: a failed client authentication through the Authorization header answers 401 with a challenge.
  if (status === 401) ctx.set('WWW-Authenticate', 'Basic realm="kube-oidc-bridge"');
  ctx.status = status;
  ctx.body = description ? { error, error_description: description } : { error };
}

/** A successful JSON answer from the token or device endpoints. */
export function sendOAuthJson(ctx: Koa.Context, body: Record<string, unknown>): void {
  noStore(ctx);
  ctx.status = 200;
  ctx.body = body;
}

/**
 * For the JSON endpoints: a broken store or an unreachable IdP becomes RFC 6749's
 * `temporarily_unavailable` (503, Retry-After) rather than the generic error body, so OAuth clients
 * report it properly and retry. Logged with the error code only.
 */
export function oauthInfrastructureErrors(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isBridgeError(err) || (err.code !== 'ERR_STORE_UNAVAILABLE' && err.code !== 'ERR_UPSTREAM'))
        throw err;
      logger.error({ err, path: ctx.path }, 'oauth endpoint failed');
      ctx.set('Retry-After', '1');
      sendOAuthError(ctx, 503, 'temporarily_unavailable', 'try again in a moment');
    }
  };
}
