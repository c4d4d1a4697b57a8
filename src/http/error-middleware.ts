import type { Middleware } from 'koa';
import { isBridgeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { HTTP_STATUS_BY_CODE, RETRY_AFTER_SECONDS } from './error-status.js';

/**
 * Renders errors thrown by later middleware: a BridgeError gets the status its code maps to (and its
 * message when it is the client's fault), anything else is a 500 with no detail. 5xx are logged.
 * Routes that render HTML pages catch their own errors first; this is the JSON fallback.
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const code = isBridgeError(err) ? err.code : 'ERR_INTERNAL';
      const status = HTTP_STATUS_BY_CODE[code];
      if (status >= 500) logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      if (status === 503 || status === 429) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      ctx.status = status;
      ctx.body = { error: code, message: publicMessage(status, err) };
    }
  };
}

function publicMessage(status: number, err: unknown): string {
  if (status < 500 && isBridgeError(err)) return err.message;
  return status === 503 ? 'temporarily unavailable, retry later' : 'internal error';
}
