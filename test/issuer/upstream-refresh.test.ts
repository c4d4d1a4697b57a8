import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createMetrics } from '../../src/http/index.js';
import { type RunningIssuer, SecretBox, startIssuer } from '../../src/issuer/index.js';
import { refreshUpstream } from '../../src/issuer/upstream/refresh-upstream.js';
import { compileMappingSet } from '../../src/mapping/index.js';
import { createMemoryStore } from '../../src/store/index.js';
import { TokenService } from '../../src/tokens/index.js';
import { HttpBrowser, signInThroughIdp, startTestIdp, type TestIdp } from '../support/oidc-provider.js';
import {
  CLIENT,
  CORP_MAPPING,
  corpUpstream,
  freePort,
  KEY_32,
  SECRET_32,
  tokenOnPage,
} from './issuer-fixture.js';

/**
 * Client authentication methods at the upstream, and the upstream re-check the CLI's refresh grant
 * relies on (refreshUpstream), against a real IdP that issues and rotates refresh tokens.
 */

let idp: TestIdp;
let issuer: RunningIssuer;
const logs: string[] = [];
const store = createMemoryStore({ clock: systemClock });
const box = new SecretBox(KEY_32, 'upstream-refresh-token');

beforeAll(async () => {
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/callback`;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  idp = await startTestIdp({
    clients: [
      { ...CLIENT, redirectUris: [callback] },
      {
        clientId: 'bridge-post',
        clientSecret: 'post-secret',
        redirectUris: [callback],
        tokenEndpointAuthMethod: 'client_secret_post',
      },
      {
        clientId: 'bridge-jwt',
        redirectUris: [callback],
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid: 'bridge-1' }] },
      },
    ],
  });
  const rules = {
    ...CORP_MAPPING,
    claimValidationRules: [{ expression: "'platform' in claims.groups", message: 'platform members only' }],
  };
  const config = parseConfig(
    {
      store: { memory: {} },
      issuer: {
        listen: `127.0.0.1:${port}`,
        publicURL: `http://127.0.0.1:${port}`,
        cookieSecret: SECRET_32,
        encryptionKey: KEY_32,
        clusters: [{ name: 'test', audience: 'https://kubernetes.test' }],
        upstreams: [
          corpUpstream(idp, { mapping: rules }),
          corpUpstream(idp, {
            name: 'post',
            clientID: 'bridge-post',
            clientSecret: 'post-secret',
            clientAuth: 'client_secret_post',
          }),
          corpUpstream(idp, {
            name: 'jwt',
            clientID: 'bridge-jwt',
            clientSecret: undefined,
            clientAuth: 'private_key_jwt',
            privateKey: await exportPKCS8(privateKey),
          }),
        ],
      },
      mapping: CORP_MAPPING,
    },
    { env: {}, baseDir: process.cwd() },
  );
  issuer = await startIssuer({
    config,
    store,
    tokens: new TokenService({ store, clock: systemClock, config: config.tokens }),
    mapping: await compileMappingSet(config),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'debug', destination: { write: (l: string) => logs.push(l) } }),
    clock: systemClock,
  });
});

afterAll(async () => {
  await issuer?.close();
  await idp?.close();
});

const seen = new Set<string>();

/** Signs alice in through `upstream`; returns the page's token and the session that login created. */
async function signIn(upstream: string) {
  const done = await signInThroughIdp(new HttpBrowser(), `${issuer.url}/login/${upstream}`, {
    username: 'alice',
    password: 'alice-password',
  });
  expect(done.response.status).toBe(200);
  const token = tokenOnPage(done.body) as string;
  const fresh = (await store.listSessions({ username: 'alice@example.com' })).filter((s) => !seen.has(s.id));
  expect(fresh).toHaveLength(1);
  for (const s of fresh) seen.add(s.id);
  return { token, session: fresh[0] };
}

describe('client authentication at the upstream', () => {
  it.each(['corp', 'post', 'jwt'])('upstream %s (basic, post, private_key_jwt) signs in', async (name) => {
    const { token, session } = await signIn(name);
    expect(token).toMatch(/^kob_/);
    expect(session?.identity).toMatchObject({ kind: 'claims', upstream: name });
  });
});

describe('refreshUpstream', () => {
  it('keeps the upstream refresh token encrypted, never logged', async () => {
    const { session } = await signIn('corp');
    const sealed = session?.upstreamRefreshToken as string;
    expect(sealed).toMatch(/^v1\./);
    const raw = box.open(sealed, 'corp') as string;
    expect(raw.length).toBeGreaterThan(20);
    expect(box.open(sealed, 'post')).toBeUndefined();
    expect(logs.join('\n')).not.toContain(raw);
  });

  it('returns fresh claims and the mapped user; a rotated refresh token comes back encrypted', async () => {
    const { session } = await signIn('corp');
    const result = await refreshUpstream(issuer.context, 'corp', session?.upstreamRefreshToken as string, {
      subject: 'alice',
    });
    expect(result).toMatchObject({
      status: 'ok',
      claims: { sub: 'alice', email: 'alice@example.com', groups: ['platform', 'developers'] },
      user: { username: 'alice@example.com', groups: ['corp:platform', 'corp:developers'] },
    });
    if (result.status === 'ok' && result.upstreamRefreshToken) {
      expect(box.open(result.upstreamRefreshToken, 'corp')).toBeTruthy();
    }
  });

  it('refused when the IdP answers invalid_grant', async () => {
    const { session } = await signIn('corp');
    idp.failNext('token', 'invalid_grant');
    const result = await refreshUpstream(issuer.context, 'corp', session?.upstreamRefreshToken as string);
    expect(result).toMatchObject({ status: 'refused', reason: expect.stringContaining('invalid_grant') });
  });

  it('refused when the stored value does not decrypt (tampered, or the key changed)', async () => {
    const { session } = await signIn('corp');
    const sealed = session?.upstreamRefreshToken as string;
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await refreshUpstream(issuer.context, 'corp', tampered)).toMatchObject({ status: 'refused' });
  });

  it('refused when the rules no longer accept the user (left the group at the IdP)', async () => {
    const { session } = await signIn('corp');
    const alice = idp.users.find((u) => u.username === 'alice');
    const groups = alice?.groups;
    if (alice) alice.groups = ['developers'];
    try {
      const result = await refreshUpstream(issuer.context, 'corp', session?.upstreamRefreshToken as string);
      expect(result).toMatchObject({
        status: 'refused',
        reason: expect.stringContaining('platform members only'),
      });
    } finally {
      if (alice && groups) alice.groups = groups;
    }
  });

  it('throws ERR_UPSTREAM (not a refusal) when the IdP answers garbage', async () => {
    const { session } = await signIn('corp');
    idp.failNext('token', 'temporarily_unavailable', 503);
    await expect(
      refreshUpstream(issuer.context, 'corp', session?.upstreamRefreshToken as string),
    ).rejects.toMatchObject({ code: expect.stringMatching(/ERR_(UPSTREAM|OAUTH)/) });
  });
});
