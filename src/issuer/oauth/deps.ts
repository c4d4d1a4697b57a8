import type Koa from 'koa';
import type { Config, IssuerConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Metrics } from '../../http/metrics.js';
import type { MappingSet } from '../../mapping/types.js';
import type { TokenStore } from '../../store/index.js';
import type { TokenService } from '../../tokens/index.js';
import type { LoginPurpose } from '../login/types.js';
import type { UpstreamRefreshResult } from '../upstream/refresh-upstream.js';
import type { WebKit } from '../web/web-kit.js';

/**
 * Everything the CLI's authorization server needs, handed in by the issuer's composition. The two
 * functions come from the issuer's login code: starting an upstream login for a purpose, and
 * re-checking a user upstream with the stored (encrypted) refresh token.
 */
export interface OAuthDeps {
  config: Config & { issuer: IssuerConfig };
  store: TokenStore;
  tokens: TokenService;
  mapping: MappingSet;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** Cookies, CSRF guard and rate limiter shared with the issuer's own pages (the /device page uses them). */
  web: WebKit;
  beginUpstreamLogin(ctx: Koa.Context, upstreamName: string, purpose: LoginPurpose): Promise<void>;
  /** Re-checks a user at the upstream (refresh grant there, then the mapping rules). */
  refreshUpstream(
    upstreamName: string,
    encryptedRefreshToken: string,
    options: { subject?: string },
  ): Promise<UpstreamRefreshResult>;
}
