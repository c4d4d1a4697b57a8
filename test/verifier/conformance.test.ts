import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import type { UserInfo } from '../../src/core/identity.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import type { SessionIdentity } from '../../src/store/index.js';
import { tokenReviewRequestBody, type WebhookVersion } from '../support/apiserver-webhook-client.js';
import { createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { type HttpAnswer, type PostOptions, postRaw } from './https-post.js';
import { CLUSTER_AUDIENCE, createVerifierPki, type VerifierPki, verifierConfig } from './verifier-fixture.js';

/**
 * TokenReview conformance (docs/design.md §3): real request bytes as kube-apiserver sends them, over mTLS, to a
 * running verifier on a real Redis. Each case names the behaviour; the answer is checked on the wire.
 */

const certs = createCertWorkspace();
let pki: VerifierPki;
let redis: TestRedis;
let services: RunningServices;
const clock = new ManualClock(Math.floor(Date.now() / 1000));
const dir = mkdtempSync(join(tmpdir(), 'kob-conformance-'));

const alice = { email: 'alice@example.com', email_verified: true, groups: ['dev', 'ops'] };

async function mint(
  identity: SessionIdentity,
  username: string,
  audiences = [CLUSTER_AUDIENCE],
  ttl?: number,
) {
  const session = await services.tokens.createSession({ identity, username, source: 'admin' });
  const { token } = await services.tokens.issueAccessToken(session, audiences, ttl ? { ttl } : undefined);
  return token;
}

const mintClaims = (claims: Record<string, unknown>, audiences?: string[], ttl?: number) =>
  mint({ kind: 'claims', upstream: '', claims }, String(claims.email), audiences, ttl);

const mintUser = (user: UserInfo, allowSystem = false) =>
  mint({ kind: 'static', user, allowSystem }, user.username);

function review(version: WebhookVersion, token: string, audiences = [CLUSTER_AUDIENCE], minor = 34): string {
  return tokenReviewRequestBody(version, minor, token, audiences);
}

function post(body: string, options: PostOptions & { path?: string } = {}): Promise<HttpAnswer> {
  return postRaw(`${services.verifierURL}${options.path ?? '/authenticate'}`, body, {
    ca: pki.serverCA.cert,
    client: pki.apiserver,
    ...options,
  });
}

beforeAll(async () => {
  pki = createVerifierPki(certs);
  // Append-only file on: data survives the stop/start of the outage case, as a production Redis would.
  redis = await startTestRedis({ args: ['--appendonly', 'yes'] });
  const config = parseConfig(verifierConfig({ redisUrl: redis.url, pki }), { env: {}, baseDir: dir });
  services = await startServices(config, { env: {}, clock, logger: createLogger({ level: 'silent' }) });
});

afterAll(async () => {
  await services?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

type Expected =
  | { status: 200; apiVersion: string; authenticated: true; user: Partial<UserInfo>; audiences: string[] }
  | { status: 200; apiVersion: string; authenticated: false; error?: RegExp }
  | { status: 400 | 403 | 405 };

interface Case {
  name: string;
  /** Builds the request (minting what it needs); several requests share one expectation. */
  request: () => Promise<{ body: string; options?: PostOptions & { path?: string } }[]>;
  expect: Expected;
}

const V1 = 'authentication.k8s.io/v1';
const V1BETA1 = 'authentication.k8s.io/v1beta1';
const aliceUser = { username: 'alice@example.com', groups: ['dev', 'ops'] };

const cases: Case[] = [
  {
    name: 'valid token, v1: authenticated with the mapped user, answered in v1',
    request: async () => [{ body: review('v1', await mintClaims(alice)) }],
    expect: {
      status: 200,
      apiVersion: V1,
      authenticated: true,
      user: aliceUser,
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'valid token, v1beta1 with the pre-1.34 metadata: answered in v1beta1',
    request: async () => [{ body: review('v1beta1', await mintClaims(alice), [CLUSTER_AUDIENCE], 33) }],
    expect: {
      status: 200,
      apiVersion: V1BETA1,
      authenticated: true,
      user: aliceUser,
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'admin-minted identity is answered exactly as minted (uid, extra; no claim mapping)',
    request: async () => [
      {
        body: review(
          'v1',
          await mintUser({
            username: 'ci-bot',
            uid: 'u-1',
            groups: ['ci'],
            extra: { 'example.com/team': ['a'] },
          }),
        ),
      },
    ],
    expect: {
      status: 200,
      apiVersion: V1,
      authenticated: true,
      user: { username: 'ci-bot', uid: 'u-1', groups: ['ci'], extra: { 'example.com/team': ['a'] } },
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'unknown token (well-formed, never issued): plain denial',
    request: async () => [{ body: review('v1', 'kob_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD000000') }],
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'not one of our tokens (a JWT): plain denial',
    request: async () => [{ body: review('v1', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln') }],
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'expired token: plain denial',
    request: async () => {
      const token = await mintClaims(alice, [CLUSTER_AUDIENCE], 60);
      clock.advance(61);
      return [{ body: review('v1', token) }];
    },
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'revoked token (its session): plain denial',
    request: async () => {
      const token = await mintClaims(alice);
      await services.tokens.revokeAccessToken(token);
      return [{ body: review('v1', token) }];
    },
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: "revoked user: every one of the user's sessions is denied",
    request: async () => {
      const bob = { username: 'bob', groups: [], extra: {} };
      const tokens = [await mintUser(bob), await mintUser(bob)];
      await services.tokens.revokeUser('bob');
      return tokens.map((t) => ({ body: review('v1beta1', t) }));
    },
    expect: { status: 200, apiVersion: V1BETA1, authenticated: false },
  },
  {
    name: "token minted for another cluster's audience: denied",
    request: async () => [{ body: review('v1', await mintClaims(alice, ['https://other-cluster.example'])) }],
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'no audiences in the request: the verifier audiences apply and are returned',
    request: async () => [{ body: review('v1', await mintClaims(alice), []) }],
    expect: {
      status: 200,
      apiVersion: V1,
      authenticated: true,
      user: aliceUser,
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'no audiences in the request, token of another cluster: denied',
    request: async () => [
      { body: review('v1', await mintClaims(alice, ['https://other-cluster.example']), []) },
    ],
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'several audiences requested: only the intersection is returned',
    request: async () => [
      {
        body: review('v1', await mintClaims(alice, [CLUSTER_AUDIENCE, 'https://b.example']), [
          'https://a.example',
          CLUSTER_AUDIENCE,
        ]),
      },
    ],
    expect: {
      status: 200,
      apiVersion: V1,
      authenticated: true,
      user: aliceUser,
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'token with a space: denied',
    request: async () => [{ body: review('v1', `${await mintClaims(alice)} x`) }],
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'empty token: denied',
    request: async () => [{ body: review('v1', '') }],
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'oversized body (declared length or chunked): 400',
    request: async () => {
      const body = review('v1', await mintClaims(alice)).replace(
        '"status"',
        `"padding":"${'x'.repeat(5000)}","status"`,
      );
      return [{ body }, { body, options: { chunked: true } }];
    },
    expect: { status: 400 },
  },
  {
    name: 'wrong kind: 400',
    request: async () => [
      { body: review('v1', await mintClaims(alice)).replace('"TokenReview"', '"SubjectAccessReview"') },
    ],
    expect: { status: 400 },
  },
  {
    name: 'wrong apiVersion: 400',
    request: async () => [{ body: review('v1', await mintClaims(alice)).replace('k8s.io/v1', 'k8s.io/v2') }],
    expect: { status: 400 },
  },
  {
    name: 'not JSON: 400',
    request: async () => [{ body: '{"kind":"TokenReview",' }],
    expect: { status: 400 },
  },
  {
    name: 'unknown extra fields are accepted',
    request: async () => [
      {
        body: review('v1', await mintClaims(alice)).replace(
          '"status":{"user":{}}',
          '"status":{"user":{},"future":1},"newTopLevel":{"a":[1]}',
        ),
      },
    ],
    expect: {
      status: 200,
      apiVersion: V1,
      authenticated: true,
      user: aliceUser,
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'system:masters as a raw IdP group: refused by the system: guard',
    request: async () => [{ body: review('v1', await mintClaims({ ...alice, groups: ['system:masters'] })) }],
    expect: { status: 200, apiVersion: V1, authenticated: false },
  },
  {
    name: 'system:masters from an admin groupMap rule: allowed',
    request: async () => [
      { body: review('v1', await mintClaims({ ...alice, groups: ['platform-admins'] })) },
    ],
    expect: {
      status: 200,
      apiVersion: V1,
      authenticated: true,
      user: { username: 'alice@example.com', groups: ['platform-admins', 'system:masters'] },
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'a CEL rule failing at evaluation: denied with error (not cached by the apiserver)',
    request: async () => [{ body: review('v1', await mintClaims({ ...alice, department: 'broken' })) }],
    expect: { status: 200, apiVersion: V1, authenticated: false, error: /claimValidationRules/ },
  },
  {
    name: 'query string ignored: ?timeout=30s',
    request: async () => [
      { body: review('v1', await mintClaims(alice)), options: { path: '/authenticate?timeout=30s' } },
    ],
    expect: {
      status: 200,
      apiVersion: V1,
      authenticated: true,
      user: aliceUser,
      audiences: [CLUSTER_AUDIENCE],
    },
  },
  {
    name: 'client certificate from the trusted CA but not in allowedSubjects: 403',
    request: async () => [
      { body: review('v1', await mintClaims(alice)), options: { client: pki.otherClient } },
    ],
    expect: { status: 403 },
  },
  {
    name: 'GET on the review path: 405',
    request: async () => [{ body: '', options: { method: 'GET' } }],
    expect: { status: 405 },
  },
];

describe('TokenReview conformance over mTLS with a Redis store', () => {
  it.each(cases)('$name', async ({ request, expect: want }) => {
    for (const { body, options } of await request()) {
      const answer = await post(body, options);
      expect(answer.status).toBe(want.status);
      if (want.status !== 200) {
        if (answer.status === 400)
          expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', code: 400 });
        continue;
      }
      const json = JSON.parse(answer.body);
      expect(json.apiVersion).toBe(want.apiVersion);
      expect(json.kind).toBe('TokenReview');
      expect(json.status.authenticated).toBe(want.authenticated);
      if (want.authenticated) {
        expect(json.status.user).toMatchObject(want.user);
        expect(json.status.user.groups).toEqual(want.user.groups);
        expect(json.status.audiences).toEqual(want.audiences);
      } else if (want.error) {
        expect(json.status.error).toMatch(want.error);
        expect(json.status.user).toBeUndefined();
      } else {
        // A plain denial: exactly `{authenticated:false}`, which the apiserver may cache.
        expect(json.status).toEqual({ authenticated: false });
      }
    }
  });

  it('no client certificate: the TLS handshake is refused, no HTTP answer', async () => {
    await expect(post(review('v1', await mintClaims(alice)), { client: undefined })).rejects.toThrow();
  });

  it('a client certificate from another CA: the TLS handshake is refused', async () => {
    await expect(post(review('v1', await mintClaims(alice)), { client: pki.rogue })).rejects.toThrow();
  });

  it('Redis stopped during the run: retryable 503, never authenticated; restarted: recovers without a verifier restart', async () => {
    const token = await mintClaims(alice);
    const body = review('v1', token);
    expect(JSON.parse((await post(body)).body).status.authenticated).toBe(true);

    await redis.stop();
    const down = await post(body);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(down.body).not.toContain('"authenticated"');
    expect(down.body).not.toContain(token);
    const notReady = await post('', { method: 'GET', path: '/readyz' });
    expect(notReady.status).toBe(503);

    await redis.start();
    // Until the store has reconnected every answer must stay a retryable 503, never a (cacheable) denial.
    const deadline = Date.now() + 15_000;
    let answer = await post(body);
    while (answer.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await post(body);
    }
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).status).toMatchObject({ authenticated: true, user: aliceUser });
    expect((await post('', { method: 'GET', path: '/readyz' })).status).toBe(200);
  });

  it('ops routes on the verifier listener: /healthz, and /metrics counts reviews by result and version', async () => {
    expect((await post('', { method: 'GET', path: '/healthz' })).status).toBe(200);
    const metrics = await post('', { method: 'GET', path: '/metrics' });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/kob_token_reviews_total\{result="authenticated",version="v1"\} [1-9]/);
    expect(metrics.body).toMatch(/kob_token_reviews_total\{result="audience",version="v1"\} [1-9]/);
    expect(metrics.body).toMatch(/kob_token_reviews_total\{result="unavailable",version="v1"\} [1-9]/);
    expect(metrics.body).toMatch(/kob_store_errors_total\{operation="review"\} [1-9]/);
    expect(metrics.body).toContain('kob_token_review_duration_seconds_bucket');
  });
});
