import type { ErrorCode } from '../core/errors.js';
import { randomId } from '../core/token-format.js';
import { RETRY_AFTER_SECONDS as RETRY_AFTER_UNAVAILABLE } from '../http/index.js';

/**
 * The issuer's one error table: every refusal it answers, as an RFC 6749 §5.2 error code on the JSON
 * endpoints or a problem kind on the HTML pages, and the HTTP status of each; the one Retry-After
 * policy; and which BridgeError becomes which answer. oauth/oauth-error.ts renders the JSON answers,
 * pages/problem-page.ts the HTML ones; neither decides a status.
 */

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

/** Every way a browser step can end without what it was for, each with its own page. */
export type ProblemKind =
  | 'cancelled'
  | 'idp-error'
  | 'login-expired'
  | 'refused'
  | 'rate-limited'
  | 'unavailable'
  | 'unknown-upstream'
  | 'bad-request'
  | 'internal'
  /** A device-page form without this browser's CSRF token, or posted from another site. */
  | 'form-forbidden'
  /** /oauth2/authorize from a client that is not the CLI, or with a redirect URI it may not use. */
  | 'unknown-client'
  | 'bad-redirect-uri'
  /** The CLI's parked authorization request is gone (used, expired), or the continue link is incomplete. */
  | 'authorization-expired'
  /** The device authorization was already decided or ran out while the person signed in. */
  | 'device-code-expired'
  /** A typed user code that no pending device authorization has. */
  | 'unknown-user-code';

/**
 * The status of each answer. OAuth (RFC 6749 §5.2): 400 unless the client failed to authenticate
 * (401); RFC 6750 §3.1: 401 for a bad bearer token; the device-flow answers (RFC 8628 §3.5) are 400s
 * the client keeps polling through. Pages: the person's input 4xx, the IdP's failure 502, ours 5xx.
 */
export const ERROR_STATUS: Record<OAuthErrorCode | ProblemKind, number> = {
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

  cancelled: 400,
  'idp-error': 502,
  'login-expired': 400,
  refused: 403,
  'rate-limited': 429,
  unavailable: 503,
  'unknown-upstream': 404,
  'bad-request': 400,
  internal: 500,
  'form-forbidden': 403,
  'unknown-client': 400,
  'bad-redirect-uri': 400,
  'authorization-expired': 400,
  'device-code-expired': 400,
  'unknown-user-code': 400,
};

/**
 * The one Retry-After policy of the issuer: a broken store or an unreachable IdP (503) is worth
 * retrying in a second, as everywhere in the product; a rate limit (429, RFC 6585 §4) lifts when its
 * one-minute window ends.
 */
export const RETRY_AFTER_SECONDS = { unavailable: RETRY_AFTER_UNAVAILABLE, rateLimited: 60 } as const;

/** The Retry-After header value for an answer with this status, or undefined when none is sent. */
export function retryAfter(status: number): string | undefined {
  if (status === 503) return String(RETRY_AFTER_SECONDS.unavailable);
  if (status === 429) return String(RETRY_AFTER_SECONDS.rateLimited);
  return undefined;
}

/** Which page an error thrown below an HTML route shows (anything else: `internal`). */
export const PROBLEM_BY_CODE: Partial<Record<ErrorCode, ProblemKind>> = {
  ERR_OAUTH: 'idp-error',
  ERR_UPSTREAM: 'idp-error',
  ERR_SESSION_ENDED: 'login-expired',
  ERR_RATE_LIMITED: 'rate-limited',
  ERR_STORE_UNAVAILABLE: 'unavailable',
  ERR_INPUT_INVALID: 'bad-request',
};

/**
 * Which answer an error thrown below a JSON endpoint gets: RFC 6749's `temporarily_unavailable` for a
 * broken store or an unreachable IdP (so OAuth clients retry), `invalid_grant` for an ended session,
 * the 429 of a rate limit. Anything else falls through to the generic error middleware.
 */
export const OAUTH_ANSWER_BY_CODE: Partial<Record<ErrorCode, OAuthErrorCode | 'rate-limited'>> = {
  ERR_RATE_LIMITED: 'rate-limited',
  ERR_SESSION_ENDED: 'invalid_grant',
  ERR_STORE_UNAVAILABLE: 'temporarily_unavailable',
  ERR_UPSTREAM: 'temporarily_unavailable',
};

/** A fresh reference to quote on a problem page and in the matching audit or log line. */
export function problemReference(): string {
  return randomId(6);
}
