import type { IssuerConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Metrics } from '../../http/index.js';
import type { MappingSet } from '../../mapping/index.js';
import type { TokenService } from '../../tokens/index.js';
import type { UpstreamRegistry } from '../upstream/upstream-registry.js';
import type { WebKit } from '../web/web-kit.js';

/** Collaborators of the browser session: web login completion, result page, sign-out. */
export interface WebSessionDeps {
  issuer: IssuerConfig;
  tokens: TokenService;
  mapping: MappingSet;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  upstreams: UpstreamRegistry;
  web: WebKit;
}
