import { type ErrorCode, isBridgeError } from '../core/errors.js';

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

/** What an error thrown while answering a request becomes on the wire (JSON body `{error, message}`). */
export interface ErrorAnswer {
  status: number;
  /** Set for 503 and 429: the client should retry after this many seconds. */
  retryAfter?: number;
  body: { error: ErrorCode; message: string };
}

/**
 * A BridgeError gets the status its code maps to (and its message when it is the client's fault),
 * anything else is a 500 with no detail: internals never reach the client.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  const code = isBridgeError(err) ? err.code : 'ERR_INTERNAL';
  const status = HTTP_STATUS_BY_CODE[code];
  const message =
    status < 500 && isBridgeError(err)
      ? err.message
      : status === 503
        ? 'temporarily unavailable, retry later'
        : 'internal error';
  return {
    status,
    retryAfter: status === 503 || status === 429 ? RETRY_AFTER_SECONDS : undefined,
    body: { error: code, message },
  };
}
