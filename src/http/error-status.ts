import type { ErrorCode } from '../core/errors.js';

/**
 * The one place a BridgeError code becomes an HTTP status. Infrastructure failures are 503 (with
 * Retry-After where sent) so callers retry; broken input is 4xx; our own bugs and misconfiguration 500.
 */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  ERR_INPUT_INVALID: 400,
  ERR_USAGE: 400,
  ERR_OAUTH: 400,
  ERR_SESSION_ENDED: 400,
  ERR_RATE_LIMITED: 429,
  ERR_UPSTREAM: 502,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_CONFIG_INVALID: 500,
  ERR_LOCK_TIMEOUT: 500,
  ERR_PLUGIN: 500,
  ERR_INTERNAL: 500,
};

/** Seconds a client should wait before retrying, for the statuses where that makes sense. */
export const RETRY_AFTER_SECONDS = 1;
