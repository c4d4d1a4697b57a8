import type { Router } from '@koa/router';
import type Koa from 'koa';
import type { Config, IssuerConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createCaFetch } from '../http/ca-fetch.js';
import type { Metrics } from '../http/index.js';
import type { MappingSet } from '../mapping/index.js';
import type { TokenStore } from '../store/index.js';
import type { TokenService } from '../tokens/index.js';
import { beginUpstreamLogin } from './login/begin-login.js';
import type { LoginDeps } from './login/login-deps.js';
import type { LoginCompletionHandler, LoginPurpose } from './login/types.js';
import { completeWebLogin } from './session/complete-web-login.js';
import type { WebSessionDeps } from './session/web-session-deps.js';
import { buildClientAuth } from './upstream/client-auth.js';
import { refreshUpstream, type UpstreamRefreshResult } from './upstream/refresh-upstream.js';
import { SecretBox } from './upstream/secret-box.js';
import { UpstreamRegistry } from './upstream/upstream-registry.js';
import { createWebKit, type WebKit } from './web/web-kit.js';

/** What startIssuer needs. The composition root (src/server/start.ts) hands these in. */
export interface IssuerDeps {
  config: Config;
  store: TokenStore;
  tokens: TokenService;
  mapping: MappingSet;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /**
   * More routes on the issuer listener (the CLI's OAuth endpoints). The function form receives the
   * toolkit, for routes that start upstream logins or refresh upstream.
   */
  extraRouters?: Router[] | ((toolkit: IssuerToolkit) => Router[]);
  /** Finishers for logins started by the CLI's endpoints (the issuer finishes `web` logins itself). */
  completionHandlers?: Partial<Record<'cli-authorize' | 'device', LoginCompletionHandler>>;
}

/** The issuer's building blocks other routes on the issuer listener use (the CLI's OAuth endpoints). */
export interface IssuerToolkit {
  issuer: IssuerConfig;
  web: WebKit;
  upstreams: UpstreamRegistry;
  /** See login/begin-login.ts: stores state, redirects to the upstream. Throws ERR_NOT_FOUND, ERR_UPSTREAM, ERR_RATE_LIMITED. */
  beginUpstreamLogin(ctx: Koa.Context, upstreamName: string, purpose: LoginPurpose): Promise<void>;
  /** See upstream/refresh-upstream.ts: re-checks a user at the IdP with the stored refresh token. */
  refreshUpstream(
    upstreamName: string,
    encryptedRefreshToken: string,
    options?: { subject?: string },
  ): Promise<UpstreamRefreshResult>;
}

export interface IssuerParts {
  toolkit: IssuerToolkit;
  login: LoginDeps;
  session: WebSessionDeps;
  /** Routers to mount after the issuer's own (deps.extraRouters). */
  extraRouters: Router[];
}

/**
 * Builds the issuer's parts from config: checks keys and URLs (ConfigError naming the field), prepares
 * each upstream's client authentication. No network: upstream discovery happens at the first login.
 */
export async function createIssuerParts(deps: IssuerDeps): Promise<IssuerParts> {
  const issuer = deps.config.issuer;
  if (!issuer) throw new Error('the issuer role is not configured');
  const web = createWebKit(issuer, deps.store, deps.metrics);
  const refreshTokenBox = new SecretBox(issuer.encryptionKey, 'upstream-refresh-token');
  const clientAuth = new Map(
    await Promise.all(
      issuer.upstreams.map(
        async (u, i) => [u.name, await buildClientAuth(u, `issuer.upstreams.${i}`)] as const,
      ),
    ),
  );
  const upstreams = new UpstreamRegistry({
    upstreams: issuer.upstreams,
    logger: deps.logger,
    clientAuth,
    caFetch: createCaFetch,
  });
  const session: WebSessionDeps = { ...deps, issuer, upstreams, web };
  const login: LoginDeps = {
    ...deps,
    issuer,
    upstreams,
    web,
    refreshTokenBox,
    completionHandlers: { ...deps.completionHandlers, web: completeWebLogin(session) },
  };
  const toolkit: IssuerToolkit = {
    issuer,
    web,
    upstreams,
    beginUpstreamLogin: (ctx, name, purpose) => beginUpstreamLogin(login, ctx, name, purpose),
    refreshUpstream: (name, encrypted, options = {}) =>
      refreshUpstream({ upstreams, mapping: deps.mapping, refreshTokenBox }, name, encrypted, options),
  };
  const extraRouters =
    typeof deps.extraRouters === 'function' ? deps.extraRouters(toolkit) : (deps.extraRouters ?? []);
  return { toolkit, login, session, extraRouters };
}
