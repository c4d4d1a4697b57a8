import type Koa from 'koa';
import { isBridgeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { ERROR_STATUS, OAUTH_ANSWER_BY_CODE, type OAuthErrorCode, retryAfter } from '../error-table.js';

export type { OAuthErrorCode } from '../error-table.js';

/** Token-endpoint responses must not be cached (RFC 6749 §5.1). */
export function noStore(ctx: Koa.Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** Status and Retry-After of an answer from the issuer's one error table (error-table.ts). */
function answerStatus(ctx: Koa.Context, answer: OAuthErrorCode | 'rate-limited'): void {
  const status = ERROR_STATUS[answer];
  const seconds = retryAfter(status);
  if (seconds !== undefined) ctx.set('Retry-After', seconds);
  ctx.status = status;
}

/** A JSON error body as RFC 6749 §5.2 describes; the description never contains a credential. */
export function sendOAuthError(ctx: Koa.Context, error: OAuthErrorCode, description?: string): void {
  noStore(ctx);
  // RFC 6749 §5.2: a failed client authentication answers 401 with a challenge.
  if (error === 'invalid_client') ctx.set('WWW-Authenticate', 'Basic realm="kube-oidc-bridge"');
  answerStatus(ctx, error);
  ctx.body = description ? { error, error_description: description } : { error };
}

/**
 * A rate-limited JSON request: 429 with Retry-After (RFC 6585 §4). OAuth has no error code for it;
 * `temporarily_unavailable` tells an OAuth client to come back later.
 */
export function sendRateLimited(ctx: Koa.Context): void {
  noStore(ctx);
  answerStatus(ctx, 'rate-limited');
  ctx.body = { error: 'temporarily_unavailable', error_description: 'too many requests; try again later' };
}

/** A successful JSON answer from the token, device or userinfo endpoints. */
export function sendOAuthJson(ctx: Koa.Context, body: object): void {
  noStore(ctx);
  ctx.body = body;
}

/**
 * For the JSON endpoints: an error thrown below gets the answer the error table gives its code
 * (OAUTH_ANSWER_BY_CODE) instead of the generic error body, so OAuth clients report it properly and
 * retry. A broken store or IdP is logged with the error; a rate limit is only counted.
 */
export function oauthInfrastructureErrors(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const answer = isBridgeError(err) ? OAUTH_ANSWER_BY_CODE[err.code] : undefined;
      if (answer === undefined) throw err;
      if (answer === 'rate-limited') return sendRateLimited(ctx);
      if (answer === 'invalid_grant') return sendOAuthError(ctx, answer, 'the session has ended');
      logger.error({ err, path: ctx.path }, 'oauth endpoint failed');
      sendOAuthError(ctx, answer, 'try again in a moment');
    }
  };
}
