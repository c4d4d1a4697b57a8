import Koa from 'koa';
import { errorMiddleware, opsMiddleware } from '../http/index.js';
import type { Issuer } from './create-issuer.js';
import type { IssuerDeps } from './issuer-context.js';
import { clientAddressMiddleware } from './web/client-address.js';
import { securityHeaders } from './web/security-headers.js';

/**
 * The issuer's koa app. The client address comes from X-Forwarded-For only through the proxies
 * `issuer.trustProxy` names (see web/client-address.ts); koa's own proxy handling stays off, since it
 * believes the header from any peer. URLs are built from `issuer.publicURL`, never from
 * X-Forwarded-Proto/-Host. The ops routes are here unless a separate `ops.listen` serves them.
 */
export function createIssuerApp(deps: IssuerDeps, built: Issuer): Koa {
  const issuer = built.context.issuer;
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
  if (!deps.config.ops) app.use(opsMiddleware(deps));
  app.use(built.router.routes());
  app.use(built.router.allowedMethods());
  return app;
}
