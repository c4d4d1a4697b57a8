import { Router } from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../core/logger.js';
import { hasResilience } from '../store/store-resilience.js';
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
 * The readiness check: pings the token store, counts a failure as a store error and records the
 * answer in `kob_ready`. Resolves true when the store answered.
 */
async function checkReady({ store, metrics, logger }: OpsDeps): Promise<boolean> {
  try {
    await store.ping();
    metrics.ready.set(1);
    return true;
  } catch (err) {
    metrics.storeErrors.inc({ operation: 'ping' });
    metrics.ready.set(0);
    logger.warn({ err }, 'readiness check: token store unavailable');
    return false;
  }
}

/** Refreshes `kob_active_sessions` from the store's count; a failure leaves the last value. */
async function countSessions({ store, metrics, logger }: OpsDeps): Promise<void> {
  try {
    metrics.activeSessions.set(await store.countSessions());
  } catch (err) {
    metrics.storeErrors.inc({ operation: 'countSessions' });
    logger.warn({ err }, 'metrics: cannot count sessions');
  }
}

/**
 * `/healthz` (the process answers), `/readyz` (the token store answers: a replica that cannot reach
 * Redis should leave the load balancer) and `/metrics` (Prometheus text format). A scrape runs the
 * readiness check too, so `kob_ready` is current at every scrape even where nothing probes `/readyz`,
 * and counts the live sessions (one cheap store command, off the review path).
 */
export function createOpsRouter(deps: OpsDeps): Router {
  const { metrics } = deps;
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = 'ok\n';
  });
  router.get('/readyz', async (ctx) => {
    ctx.type = 'text/plain';
    if (await checkReady(deps)) {
      ctx.body = `ok\n${dataLossDetails(deps.store)}`;
      return;
    }
    ctx.status = 503;
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = 'token store unavailable\n';
  });
  router.get('/metrics', async (ctx) => {
    if (await checkReady(deps)) await countSessions(deps);
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}

/**
 * Readiness details: a store that lost its data still serves (new logins work), so it stays ready,
 * but says so until the process restarts. See docs/operations.md "Store data loss".
 */
function dataLossDetails(store: TokenStore): string {
  const loss = hasResilience(store) ? store.dataLoss() : undefined;
  if (loss === undefined) return '';
  const at = new Date(loss.detectedAt * 1000).toISOString();
  return `warning: token store lost its data (generation marker gone on ${loss.where}, noticed ${at}, ${loss.count} time(s) since start); sessions and tokens from before are gone\n`;
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
