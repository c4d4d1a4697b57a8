import type { Middleware } from 'koa';
import type { Logger } from '../core/logger.js';
import { errorAnswer } from './error-status.js';

/**
 * Renders errors thrown by later middleware as errorAnswer() describes them; 5xx are logged.
 * Routes that render HTML pages catch their own errors first; this is the JSON fallback.
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const answer = errorAnswer(err);
      if (answer.status >= 500) logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      if (answer.retryAfter !== undefined) ctx.set('Retry-After', String(answer.retryAfter));
      ctx.status = answer.status;
      ctx.body = answer.body;
    }
  };
}
