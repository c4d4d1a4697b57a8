import { Router } from '@koa/router';
import { createCaFetch } from '../http/ca-fetch.js';
import type { IssuerContext, IssuerDeps } from './issuer-context.js';
import { callbackRoute, loginStartRoute } from './login/login-routes.js';
import { createOAuthRouter } from './oauth/index.js';
import { problemPages } from './pages/problem-page.js';
import { renderStartPage } from './pages/start-page.js';
import { logoutRoute, resultRoute } from './session/session-routes.js';
import { buildClientAuth } from './upstream/client-auth.js';
import { SecretBox } from './upstream/secret-box.js';
import { UpstreamRegistry } from './upstream/upstream-registry.js';
import { createAssetRouter } from './web/assets.js';
import { createWebKit } from './web/web-kit.js';

export interface Issuer {
  /** The collaborators every use case and endpoint received (a value, for tests and tools). */
  context: IssuerContext;
  /** Every route of the issuer: pages, assets, the CLI's OAuth endpoints. */
  router: Router;
}

/**
 * Builds the issuer: its context from the configuration (keys, cookies, upstream client
 * authentication; ConfigError naming the field), then one router with the browser pages (start,
 * login start, callback, result, sign-out), the assets and the CLI's OAuth endpoints. No network:
 * upstream discovery happens at the first login.
 */
export async function createIssuer(deps: IssuerDeps): Promise<Issuer> {
  const issuer = deps.config.issuer;
  if (!issuer) throw new Error('the issuer role is not configured');
  const clientAuth = new Map(
    await Promise.all(
      issuer.upstreams.map(
        async (u, i) => [u.name, await buildClientAuth(u, `issuer.upstreams.${i}`)] as const,
      ),
    ),
  );
  const { config: _config, ...shared } = deps;
  const context: IssuerContext = {
    ...shared,
    issuer,
    web: createWebKit(issuer, deps.store, deps.metrics),
    upstreams: new UpstreamRegistry({
      upstreams: issuer.upstreams,
      logger: deps.logger,
      clientAuth,
      caFetch: createCaFetch,
    }),
    refreshTokenBox: new SecretBox(issuer.encryptionKey, 'upstream-refresh-token'),
  };

  const pages = new Router();
  pages.use(problemPages(deps.logger));
  pages.get('/', (ctx) => renderStartPage(ctx, context.upstreams.list()));
  pages.get('/login/:upstream', loginStartRoute(context));
  pages.get('/callback', callbackRoute(context));
  pages.get('/result', resultRoute(context));
  pages.post('/logout', logoutRoute(context));

  const router = new Router();
  for (const part of [createAssetRouter(), pages, createOAuthRouter(context)]) {
    router.use(part.routes(), part.allowedMethods());
  }
  return { context, router };
}
