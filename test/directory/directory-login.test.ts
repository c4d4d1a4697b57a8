import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../src/cli/plugin/loopback-server.js';
import { loadConfigFile } from '../../src/config/index.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { type GraphStandIn, manyGraphGroups, startGraphStandIn } from '../support/directory-standins.js';
import { freePort } from '../support/free-port.js';
import { HttpBrowser, signInThroughIdp, startTestIdp, type TestIdp } from '../support/oidc-provider.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { runCliCaptured } from '../support/run-cli.js';

/**
 * Groups that do not fit in the token, end to end: oidc-provider issues Entra-style overage ID tokens
 * (`_claim_names`/`_claim_sources`, no `groups`), the issuer asks the Microsoft Graph stand-in with
 * the user's upstream access token (which the stand-in checks against the provider), keeps only the
 * filtered groups with the session, and asks again at every refresh.
 */

const AUDIENCE = 'https://dev.k8s.example';
const OVERAGE = {
  _claim_names: { groups: 'src1' },
  _claim_sources: { src1: { endpoint: 'https://graph.windows.net/tenant/users/erin/getMemberObjects' } },
};

/** oidc-provider's access token model (not in its bundled types). */
interface ProviderTokens {
  AccessToken: { find(token: string): Promise<{ accountId: string } | undefined> };
}

let idp: TestIdp;
let graph: GraphStandIn;
let redis: TestRedis;
let services: RunningServices;
let issuerURL: string;
let client: oidc.Configuration;
const logs: string[] = [];
let workDir: string;
let configFile: string;

beforeAll(async () => {
  redis = await startTestRedis();
  const port = await freePort();
  issuerURL = `http://127.0.0.1:${port}`;
  idp = await startTestIdp({
    clients: [{ clientId: 'bridge', clientSecret: 'bridge-secret', redirectUris: [`${issuerURL}/callback`] }],
    users: [
      { username: 'erin', password: 'erin-password', email: 'erin@example.com', claims: OVERAGE },
      { username: 'gus', password: 'gus-password', email: 'gus@example.com', claims: OVERAGE },
    ],
  });
  // Graph accepts the upstream access tokens the provider really issued, and knows whose they are.
  const accessTokens = (idp.provider as unknown as ProviderTokens).AccessToken;
  graph = await startGraphStandIn(async (token) => (await accessTokens.find(token))?.accountId);
  const input = {
    store: { redis: { url: redis.url, keyPrefix: 'kob-dir:' } },
    issuer: {
      listen: `127.0.0.1:${port}`,
      publicURL: issuerURL,
      cookieSecret: 'cookie-secret-for-tests-0123456789abcdef',
      encryptionKey: 'encryption-key-for-tests-0123456789abcdef',
      clusters: [{ name: 'dev', audience: AUDIENCE }],
      upstreams: [
        {
          name: 'entra',
          issuer: idp.issuer,
          clientID: 'bridge',
          clientSecret: 'bridge-secret',
          scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
          allowInsecureRequests: true,
          groups: {
            from: 'microsoftGraph',
            microsoftGraph: { endpoint: graph.endpoint, groupNames: 'displayName' },
            filter: { prefixes: ['k8s-'] },
          },
        },
      ],
      rateLimit: { loginPerMinute: 1000 },
    },
    mapping: {
      claimMappings: {
        username: { claim: 'email', prefix: '' },
        groups: { claim: 'groups', prefix: 'oidc:' },
      },
    },
  };
  // The same file serves the issuer and the admin's `mapping explain`.
  workDir = mkdtempSync(join(tmpdir(), 'kob-directory-'));
  configFile = join(workDir, 'config.yaml');
  writeFileSync(configFile, JSON.stringify(input));
  const config = loadConfigFile(configFile, {});
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => logs.push(line) } });
  services = await startServices(config, { env: {}, logger, clock: systemClock });
  client = await oidc.discovery(new URL(issuerURL), 'kube-oidc-bridge', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
});

afterAll(async () => {
  await services?.close();
  await Promise.all([graph?.close(), idp?.close()]);
  await redis?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** The CLI's code flow (PKCE, loopback redirect) with a person signing in at the IdP. */
async function cliLogin(user: { username: string; password: string }) {
  const receiver = await startLoopbackReceiver();
  try {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: receiver.redirectUri,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      audience: AUDIENCE,
    });
    const callback = receiver.waitForCallback(state, 20_000);
    const page = await signInThroughIdp(new HttpBrowser(), url.href, user);
    const outcome = await Promise.race([
      callback.then((cb) => ({ cb })),
      new Promise<{ page: typeof page }>((resolve) => setTimeout(() => resolve({ page }), 2000)),
    ]);
    if ('page' in outcome) return { failedPage: outcome.page };
    const tokens = await oidc.authorizationCodeGrant(client, outcome.cb, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    return { tokens };
  } finally {
    await receiver.close();
  }
}

async function groupsOf(accessToken: string): Promise<unknown> {
  const found = await services.tokens.lookupAccessToken(accessToken);
  if (found.status !== 'valid' || found.record.identity.kind !== 'claims') return found.status;
  return found.record.identity.claims['groups'];
}

describe('directory groups through a real login', () => {
  it('Entra overage resolved through the Graph stand-in at login, filtered before it is stored', async () => {
    graph.groups.set('erin', [
      ...manyGraphGroups(300),
      { id: 'id-dev', displayName: 'k8s-dev' },
      { id: 'id-ops', displayName: 'k8s-ops' },
    ]);
    const { tokens } = await cliLogin({ username: 'erin', password: 'erin-password' });
    expect(tokens?.access_token).toMatch(/^kob_/);
    expect(await groupsOf(tokens!.access_token)).toEqual(['k8s-dev', 'k8s-ops']);
    const info = await oidc.fetchUserInfo(client, tokens!.access_token, oidc.skipSubjectCheck);
    expect(info['groups']).toEqual(['oidc:k8s-dev', 'oidc:k8s-ops']);
  });

  it('a group removed in the directory is gone after the next refresh', async () => {
    graph.groups.set('erin', [
      { id: 'id-dev', displayName: 'k8s-dev' },
      { id: 'id-ops', displayName: 'k8s-ops' },
    ]);
    const { tokens } = await cliLogin({ username: 'erin', password: 'erin-password' });
    expect(await groupsOf(tokens!.access_token)).toEqual(['k8s-dev', 'k8s-ops']);
    graph.groups.set('erin', [{ id: 'id-dev', displayName: 'k8s-dev' }]);
    const refreshed = await oidc.refreshTokenGrant(client, tokens!.refresh_token!, { audience: AUDIENCE });
    expect(await groupsOf(refreshed.access_token)).toEqual(['k8s-dev']);
  });

  it('Graph down at refresh: a retryable outage, never a session with groups lost', async () => {
    graph.groups.set('erin', [{ id: 'id-dev', displayName: 'k8s-dev' }]);
    const { tokens } = await cliLogin({ username: 'erin', password: 'erin-password' });
    graph.failWith(503);
    try {
      const failed = await oidc
        .refreshTokenGrant(client, tokens!.refresh_token!, { audience: AUDIENCE })
        .then(
          () => undefined,
          (err: { cause?: unknown }) => err.cause,
        );
      expect(failed).toBeInstanceOf(Response);
      const response = failed as Response;
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      graph.failWith(undefined);
    }
    expect(await groupsOf(tokens!.access_token)).toEqual(['k8s-dev']);
    // Graph is back: the same refresh token still works, and the groups are complete.
    const refreshed = await oidc.refreshTokenGrant(client, tokens!.refresh_token!, { audience: AUDIENCE });
    expect(await groupsOf(refreshed.access_token)).toEqual(['k8s-dev']);
  });

  it('Graph down: the login is refused with a clear message, and nothing is minted', async () => {
    graph.failWith(503);
    try {
      const before = graph.requests.length;
      const result = await cliLogin({ username: 'gus', password: 'gus-password' });
      expect(result.tokens).toBeUndefined();
      expect(graph.requests.length).toBeGreaterThan(before);
      const line = logs.find((l) => l.includes('"login"') && l.includes('groups could not be fetched from'));
      expect(line).toContain(`groups could not be fetched from ${new URL(graph.url).host}: HTTP 503`);
      expect(line).toContain('"result":"error"');
    } finally {
      graph.failWith(undefined);
    }
  });

  it('the session keeps only what the filter let through, with where each group came from', async () => {
    graph.groups.set('gus', [...manyGraphGroups(5000), { id: 'id-gus', displayName: 'k8s-gus' }]);
    const { tokens } = await cliLogin({ username: 'gus', password: 'gus-password' });
    const found = await services.tokens.lookupAccessToken(tokens!.access_token);
    expect(found.status).toBe('valid');
    if (found.status !== 'valid' || found.record.identity.kind !== 'claims') return;
    expect(found.record.identity.claims['groups']).toEqual(['k8s-gus']);
    expect(found.record.identity.claims['kob_group_sources']).toBe('g/5000');
    // The stored access-token record stays small however many groups the directory has.
    const keys = (await redis.command('KEYS', 'kob-dir:*'))
      .split('\r\n')
      .filter((l) => l.startsWith('kob-dir:'));
    let largest = 0;
    for (const key of keys) {
      const usage = Number(/:(\d+)/.exec(await redis.command('MEMORY', 'USAGE', key))?.[1] ?? '0');
      largest = Math.max(largest, usage);
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(2048);
  });

  it('mapping explain --session shows where each group came from and what the filter dropped', async () => {
    graph.groups.set('erin', [...manyGraphGroups(7), { id: 'id-dev', displayName: 'k8s-dev' }]);
    const { tokens } = await cliLogin({ username: 'erin', password: 'erin-password' });
    const found = await services.tokens.lookupAccessToken(tokens!.access_token);
    if (found.status !== 'valid') throw new Error(`token is ${found.status}`);
    const run = await runCliCaptured(
      ['mapping', 'explain', '--config', configFile, '--session', found.record.sessionId, '--output', 'json'],
      { cwd: workDir, env: {} },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const explained = JSON.parse(run.stdout);
    expect(explained.user.groups).toEqual(['oidc:k8s-dev']);
    expect(explained.groupSources).toEqual({ groups: { 'k8s-dev': 'microsoftGraph' }, droppedByFilter: 7 });
    const text = await runCliCaptured(
      ['mapping', 'explain', '--config', configFile, '--session', found.record.sessionId],
      { cwd: workDir, env: {} },
    );
    expect(text.stdout).toContain('k8s-dev  (microsoftGraph)');
    expect(text.stdout).toContain("7 dropped by the upstream's group filter");
  });
});
