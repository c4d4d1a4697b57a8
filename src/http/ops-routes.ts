import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from '../core/logger.js';
import { hasResilience } from '../store/store-resilience.js';
import type { TokenStore } from '../store/types.js';
import { errorAnswer, RETRY_AFTER_SECONDS } from './error-status.js';
import type { Metrics } from './metrics.js';
import {
  jsonAnswer,
  NOT_FOUND,
  type PlainAnswer,
  routePath,
  sendAnswer,
  textAnswer,
} from './plain-answer.js';
import { pathOf } from './request-path.js';

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
 * `/healthz` (the process answers), `/readyz` (the token store answers: a replica that cannot reach
 * Redis should leave the load balancer) and `/metrics` (Prometheus text format). A scrape runs the
 * readiness check too, so `kob_ready` is current at every scrape even where nothing probes `/readyz`,
 * and counts the live sessions (one cheap store command, off the review path).
 */
const OPS_ROUTES = new Map<string, (deps: OpsDeps) => Promise<PlainAnswer>>([
  ['/healthz', async () => textAnswer(200, 'ok\n')],
  [
    '/readyz',
    async (deps) =>
      (await checkReady(deps))
        ? textAnswer(200, `ok\n${dataLossDetails(deps.store)}`)
        : textAnswer(503, 'token store unavailable\n', { 'retry-after': String(RETRY_AFTER_SECONDS) }),
  ],
  [
    '/metrics',
    async (deps) => {
      if (await checkReady(deps)) await countSessions(deps);
      const { registry } = deps.metrics;
      return {
        status: 200,
        headers: { 'content-type': registry.contentType },
        body: await registry.metrics(),
      };
    },
  ],
]);

const OPS_METHODS = 'HEAD, GET';

/**
 * The answer to an ops request, or undefined when `path` is not an ops route. GET and HEAD are
 * served, OPTIONS lists them, any other method is a 405 naming them.
 */
export async function answerOpsRequest(
  deps: OpsDeps,
  method: string,
  path: string,
): Promise<PlainAnswer | undefined> {
  const route = OPS_ROUTES.get(routePath(path));
  if (route === undefined) return undefined;
  if (method === 'GET' || method === 'HEAD') return route(deps);
  if (method === 'OPTIONS') return textAnswer(200, '', { allow: OPS_METHODS });
  return textAnswer(405, 'Method Not Allowed', { allow: OPS_METHODS });
}

/**
 * A bare node:http listener for the ops routes (404 for anything else): the separate `ops.listen`
 * listener, and the fallback of the verifier's. No web framework: loading one would cost a
 * verifier-only process a good part of its cold start (docs/benchmarks.md).
 */
export function createOpsListener(
  deps: OpsDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const method = req.method ?? 'GET';
    const path = pathOf(req.url ?? '/');
    let answer: PlainAnswer;
    try {
      answer = (await answerOpsRequest(deps, method, path)) ?? NOT_FOUND;
    } catch (err) {
      const failed = errorAnswer(err);
      if (failed.status >= 500) deps.logger.error({ err, method, path }, 'request failed');
      const headers: Record<string, string> = {};
      if (failed.retryAfter !== undefined) headers['retry-after'] = String(failed.retryAfter);
      answer = jsonAnswer(failed.status, failed.body, headers);
    }
    sendAnswer(res, answer);
  };
}

/** The ops routes inside a koa app (the issuer's, when no separate `ops.listen` serves them). */
export function opsMiddleware(deps: OpsDeps): Middleware {
  return async (ctx, next) => {
    const answer = await answerOpsRequest(deps, ctx.method, ctx.path);
    if (answer === undefined) return next();
    ctx.status = answer.status;
    ctx.set(answer.headers);
    ctx.body = answer.body;
  };
}
