import type { IssuerConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Metrics } from '../../http/index.js';
import type { MappingSet } from '../../mapping/index.js';
import type { TokenStore } from '../../store/index.js';
import type { TokenService } from '../../tokens/index.js';
import type { IssuerToolkit } from '../issuer-toolkit.js';

/**
 * What the CLI's completion handlers need: they run inside the issuer's login callback, before any
 * issuer toolkit exists, so only plain collaborators.
 */
export interface CompletionDeps {
  issuer: IssuerConfig;
  store: TokenStore;
  logger: Logger;
  clock: Clock;
}

/**
 * Everything the CLI's authorization server needs. The last three come from the issuer's toolkit:
 * page helpers (cookies, CSRF guard, rate limiter), starting an upstream login for a purpose, and
 * re-checking a user upstream with the stored (encrypted) refresh token. The composition root builds
 * it as `{ ...issuerDeps, ...toolkit }`.
 */
export interface OAuthDeps
  extends CompletionDeps,
    Pick<IssuerToolkit, 'web' | 'beginUpstreamLogin' | 'refreshUpstream'> {
  tokens: TokenService;
  mapping: MappingSet;
  metrics: Metrics;
}
