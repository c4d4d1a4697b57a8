import { Router } from '@koa/router';
import Koa from 'koa';
import { createOpsRouter, errorMiddleware } from '../http/index.js';
import type { IssuerDeps, IssuerParts } from './issuer-toolkit.js';
import { handleCallback } from './login/handle-callback.js';
import { problemPages } from './pages/problem-page.js';
import { renderStartPage } from './pages/start-page.js';
import { logoutRoute } from './session/logout-route.js';
import { resultRoute } from './session/result-route.js';
import { createAssetRouter } from './web/assets.js';
import { clientAddressMiddleware } from './web/client-address.js';
import { securityHeaders } from './web/security-headers.js';

/** The browser pages: start, login start, callback, result, sign-out. Errors become problem pages. */
function createPageRouter(deps: IssuerDeps, parts: IssuerParts): Router {
  const router = new Router();
  router.use(problemPages(deps.logger));
  router.get('/', (ctx) => renderStartPage(ctx, parts.toolkit.upstreams.list()));
  router.get('/login/:upstream', (ctx) =>
    parts.toolkit.beginUpstreamLogin(ctx, ctx.params['upstream'] ?? '', { kind: 'web' }),
  );
  router.get('/callback', (ctx) => handleCallback(parts.login, ctx));
  router.get('/result', resultRoute(parts.session));
  router.post('/logout', logoutRoute(parts.session));
  return router;
}

/**
 * The issuer's koa app. The client address comes from X-Forwarded-For only through the proxies
 * `issuer.trustProxy` names (see web/client-address.ts); koa's own proxy handling stays off, since it
 * believes the header from any peer. URLs are built from `issuer.publicURL`, never from
 * X-Forwarded-Proto/-Host. The ops routes are here unless a separate `ops.listen` serves them.
 */
export function createIssuerApp(deps: IssuerDeps, parts: IssuerParts): Koa {
  const issuer = parts.toolkit.issuer;
  const app = new Koa();
  app.silent = true;
  app.use(clientAddressMiddleware(issuer.trustProxy));
  app.use(
    securityHeaders(
      issuer.upstreams.map((u) => new URL(u.issuer).origin),
      new URL(issuer.publicURL).protocol === 'https:',
    ),
  );
  app.use(errorMiddleware(deps.logger));
  const routers = [
    ...(deps.config.ops ? [] : [createOpsRouter(deps)]),
    createAssetRouter(),
    createPageRouter(deps, parts),
    ...parts.extraRouters,
  ];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
