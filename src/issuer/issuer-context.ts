import type { Config, IssuerConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../http/index.js';
import type { MappingSet } from '../mapping/index.js';
import type { TokenStore } from '../store/index.js';
import type { TokenService } from '../tokens/index.js';
import type { SecretBox } from './upstream/secret-box.js';
import type { UpstreamRegistry } from './upstream/upstream-registry.js';
import type { WebKit } from './web/web-kit.js';

/** What the composition root (src/server/start.ts) hands to createIssuer / startIssuer. */
export interface IssuerDeps {
  config: Config;
  store: TokenStore;
  tokens: TokenService;
  mapping: MappingSet;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
}

/**
 * Every collaborator of the issuer's use cases and endpoints, built once by createIssuer from the
 * configuration and handed down as a plain value: no closures, no halves handed to each other. A use
 * case takes what it needs from it (TypeScript checks the subset), so the path from an endpoint to
 * the store is a chain of direct calls.
 */
export interface IssuerContext extends Omit<IssuerDeps, 'config'> {
  issuer: IssuerConfig;
  /** Cookies, CSRF, sealed cookie values, the rate limiter, the public URL. */
  web: WebKit;
  /** The configured upstream IdPs and their (lazily discovered) openid-client configuration. */
  upstreams: UpstreamRegistry;
  /** Encrypts upstream refresh tokens at rest (key: issuer.encryptionKey). */
  refreshTokenBox: SecretBox;
}
