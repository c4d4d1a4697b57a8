import { type Config, parseConfig } from '../../src/config/index.js';
import { type Clock, systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { startServices } from '../../src/server/index.js';
import type { TokenStore } from '../../src/store/index.js';
import type { TokenService } from '../../src/tokens/index.js';
import { freePort } from '../support/free-port.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { type CountingProxy, startCountingProxy } from './counting-proxy.js';

/**
 * A real issuer for the CLI tests: its own redis-server, oidc-provider as the upstream IdP (alice and
 * bob), the issuer role with the CLI's OAuth endpoints, behind a counting proxy that is its public URL.
 */
export interface IssuerHarness {
  /** The issuer URL clients use (the proxy). */
  url: string;
  proxy: CountingProxy;
  idp: TestIdp;
  redis: TestRedis;
  store: TokenStore;
  tokens: TokenService;
  config: Config;
  /** Every log line the issuer wrote (JSON text). */
  logs: string[];
  close(): Promise<void>;
}

export const DEV_AUDIENCE = 'https://dev.k8s.example';
export const PROD_AUDIENCE = 'https://prod.k8s.example';

export interface HarnessOptions {
  accessTokenTTL?: number;
  refreshReuseGrace?: number;
  devicePollInterval?: number;
  userCodeAttemptsPerMinute?: number;
  /** The issuer's clock (default: real time). */
  clock?: Clock;
}

export async function startIssuerHarness(options: HarnessOptions = {}): Promise<IssuerHarness> {
  const redis = await startTestRedis();
  const proxy = await startCountingProxy();
  const idp = await startTestIdp({
    clients: [{ clientId: 'bridge', clientSecret: 'bridge-secret', redirectUris: [`${proxy.url}/callback`] }],
  });
  const listenPort = await freePort();
  const config = parseConfig(
    {
      store: { redis: { url: redis.url, keyPrefix: 'kob-test:' } },
      tokens: {
        accessTokenTTL: options.accessTokenTTL ?? 900,
        refreshTokenTTL: 3600,
        maxSessionLifetime: 7200,
        refreshReuseGrace: options.refreshReuseGrace ?? 10,
      },
      issuer: {
        listen: `127.0.0.1:${listenPort}`,
        publicURL: proxy.url,
        cookieSecret: 'cookie-secret-for-tests-0123456789abcdef',
        encryptionKey: 'encryption-key-for-tests-0123456789abcdef',
        clusters: [
          { name: 'dev', audience: DEV_AUDIENCE },
          { name: 'prod', audience: PROD_AUDIENCE },
        ],
        upstreams: [
          {
            name: 'corp',
            displayName: 'Corp SSO',
            issuer: idp.issuer,
            clientID: 'bridge',
            clientSecret: 'bridge-secret',
            scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
            allowInsecureRequests: true,
          },
        ],
        rateLimit: {
          loginPerMinute: 1000,
          userCodeAttemptsPerMinute: options.userCodeAttemptsPerMinute ?? 10,
        },
        cli: { devicePollInterval: options.devicePollInterval ?? 1 },
      },
      mapping: {
        claimMappings: {
          username: { claim: 'email', prefix: '' },
          groups: { claim: 'groups', prefix: 'oidc:' },
        },
      },
    },
    { env: {}, baseDir: process.cwd() },
  );
  const logs: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => logs.push(line) } });
  // The composition root the product runs: issuer role with the CLI's OAuth endpoints mounted.
  const services = await startServices(config, { env: {}, logger, clock: options.clock ?? systemClock });
  proxy.setTarget(listenPort);
  return {
    url: proxy.url,
    proxy,
    idp,
    redis,
    store: services.store,
    tokens: services.tokens,
    config,
    logs,
    async close() {
      await services.close();
      await proxy.close();
      await idp.close();
      await redis.close();
    },
  };
}
