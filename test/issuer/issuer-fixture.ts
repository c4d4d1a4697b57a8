import { type ConfigFileInput, parseConfig } from '../../src/config/index.js';
import type { Clock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createMemoryStore, type TokenStore } from '../../src/store/index.js';
import { freePort } from '../support/free-port.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';

/**
 * An issuer (plus an insecure-HTTP verifier for checking minted tokens) in front of a real test IdP,
 * wired through the composition root like `serve` does. Log lines are captured for assertions.
 */

export const AUDIENCE = 'https://kubernetes.test';
export const CLIENT = { clientId: 'bridge', clientSecret: 'bridge-secret-for-tests' };
export const SECRET_32 = 'a-cookie-secret-of-at-least-32-bytes!!';
export const KEY_32 = 'an-encryption-key-of-at-least-32-bytes!';

type IssuerInput = NonNullable<ConfigFileInput['issuer']>;
type UpstreamInput = IssuerInput['upstreams'][number];

export const CORP_MAPPING = {
  claimMappings: { username: { claim: 'email', prefix: '' }, groups: { claim: 'groups', prefix: 'corp:' } },
};

export function corpUpstream(idp: TestIdp, overrides: Partial<UpstreamInput> = {}): UpstreamInput {
  return {
    name: 'corp',
    displayName: 'Corp SSO',
    issuer: idp.issuer,
    clientID: CLIENT.clientId,
    clientSecret: CLIENT.clientSecret,
    allowInsecureRequests: true,
    scopes: ['openid', 'email', 'profile', 'groups'],
    ...overrides,
  };
}

export interface IssuerUnderTest {
  url: string;
  services: RunningServices;
  logs: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  port: number;
  /** Default `http://127.0.0.1:PORT`. */
  publicURL?: string;
  upstreams: UpstreamInput[];
  mapping?: ConfigFileInput['mapping'];
  store?: TokenStore;
  redisURL?: string;
  clock?: Clock;
  issuer?: Partial<IssuerInput>;
}

export async function startIssuerUnderTest(options: StartOptions): Promise<IssuerUnderTest> {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => logs.push(line) } });
  const publicURL = options.publicURL ?? `http://127.0.0.1:${options.port}`;
  const config = parseConfig(
    {
      store: options.redisURL ? { redis: { url: options.redisURL } } : { memory: {} },
      verifier: { listen: '127.0.0.1:0', insecureHTTP: true, audiences: [AUDIENCE] },
      issuer: {
        listen: `127.0.0.1:${options.port}`,
        publicURL,
        cookieSecret: SECRET_32,
        encryptionKey: KEY_32,
        clusters: [{ name: 'test', audience: AUDIENCE, server: 'https://k8s.test:6443' }],
        upstreams: options.upstreams,
        ...options.issuer,
      },
      ...(options.mapping ? { mapping: options.mapping } : {}),
    },
    { env: {}, baseDir: process.cwd() },
  );
  const clock = options.clock;
  const services = await startServices(config, {
    env: {},
    logger,
    ...(clock ? { clock } : {}),
    ...(options.store ? { store: options.store } : clock ? { store: createMemoryStore({ clock }) } : {}),
  });
  return { url: services.issuerURL as string, services, logs, close: () => services.close() };
}

/** An IdP whose client accepts the callbacks of the given issuer ports. */
export async function startIdpFor(
  ports: number[],
  extraClients: Parameters<typeof startTestIdp>[0]['clients'] = [],
) {
  return startTestIdp({
    clients: [
      {
        ...CLIENT,
        redirectUris: ports.map((p) => `http://127.0.0.1:${p}/callback`),
      },
      ...extraClients,
    ],
  });
}

export { freePort };

/** The token shown on the result page. */
export function tokenOnPage(body: string): string | undefined {
  return /<pre id="token"[^>]*>(kob_[A-Za-z0-9_-]+)<\/pre>/.exec(body)?.[1];
}

/** The value of the sign-out form's CSRF field. */
export function csrfOnPage(body: string): string | undefined {
  return /name="csrf" value="([^"]+)"/.exec(body)?.[1];
}

/** Posts a TokenReview to the (insecure-HTTP) verifier and returns its status. */
export async function review(services: RunningServices, token: string) {
  const response = await fetch(`${services.verifierURL}/authenticate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, audiences: [AUDIENCE] },
    }),
  });
  const body = (await response.json()) as {
    status: { authenticated?: boolean; user?: { username: string; groups?: string[] } };
  };
  return body.status;
}
