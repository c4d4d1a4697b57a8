import { Router } from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../core/logger.js';
import type { TokenStore } from '../store/types.js';
import { errorMiddleware } from './error-middleware.js';
import { RETRY_AFTER_SECONDS } from './error-status.js';
import type { Metrics } from './metrics.js';

export interface OpsDeps {
  store: TokenStore;
  metrics: Metrics;
  logger: Logger;
}

/**
 * `/healthz` (the process answers), `/readyz` (the token store answers: a replica that cannot reach
 * Redis should leave the load balancer) and `/metrics` (Prometheus text format).
 */
export function createOpsRouter({ store, metrics, logger }: OpsDeps): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = 'ok\n';
  });
  router.get('/readyz', async (ctx) => {
    ctx.type = 'text/plain';
    try {
      await store.ping();
      ctx.body = 'ok\n';
    } catch (err) {
      metrics.storeErrors.inc({ operation: 'ping' });
      logger.warn({ err }, 'readiness check: token store unavailable');
      ctx.status = 503;
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      ctx.body = 'token store unavailable\n';
    }
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}

/**
 * A koa app with the error middleware and the ops routes, plus any role routers given. Used for the
 * separate `ops.listen` listener and as the fallback of the verifier's listener.
 */
export function createOpsApp(deps: OpsDeps, routers: Router[] = []): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(errorMiddleware(deps.logger));
  for (const router of [createOpsRouter(deps), ...routers]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
