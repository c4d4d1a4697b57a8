import type { IssuerConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Metrics } from '../../http/index.js';
import type { MappingSet } from '../../mapping/index.js';
import type { TokenStore } from '../../store/index.js';
import type { SecretBox } from '../upstream/secret-box.js';
import type { UpstreamRegistry } from '../upstream/upstream-registry.js';
import type { WebKit } from '../web/web-kit.js';
import type { LoginCompletionHandler, LoginPurpose } from './types.js';

/** Collaborators of the upstream login steps, wired by startIssuer. */
export interface LoginDeps {
  issuer: IssuerConfig;
  store: TokenStore;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  mapping: MappingSet;
  upstreams: UpstreamRegistry;
  web: WebKit;
  /** Encrypts upstream refresh tokens at rest (key: issuer.encryptionKey). */
  refreshTokenBox: SecretBox;
  /** Who finishes a login, per purpose. */
  completionHandlers: Partial<Record<LoginPurpose['kind'], LoginCompletionHandler>>;
}

/** Cookie binding a login to the browser that started it (see begin-login.ts). */
export const LOGIN_BINDING_COOKIE = 'kob-login';
