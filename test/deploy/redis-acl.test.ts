import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { createStore, type TokenStore } from '../../src/store/index.js';
import { TokenService } from '../../src/tokens/index.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';

const guide = fileURLToPath(new URL('../../docs/deploy-kubernetes.md', import.meta.url));
const password = 'acl-test-password-0123456789';

/** The `ACL SETUSER` line of the deployment guide, split into its words, the password filled in. */
function recommendedAcl(): string[] {
  const line = readFileSync(guide, 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith('ACL SETUSER kube-oidc-bridge '));
  if (line === undefined) throw new Error('the guide has no ACL SETUSER kube-oidc-bridge line');
  return line
    .trim()
    .split(/\s+/)
    .map((word) => word.replace(/^>.*$/, `>${password}`));
}

function redisConfig(url: string, keyPrefix: string): RedisConfig {
  return {
    url,
    username: 'kube-oidc-bridge',
    password,
    keyPrefix,
    connectTimeout: 5,
    commandTimeout: 2,
  };
}

/** Every kind of store operation a running bridge makes: reviews, logins, CLI flows, rate limits, admin. */
async function exerciseStore(store: TokenStore): Promise<void> {
  const clock = new ManualClock(1_800_000_000);
  const tokens = new TokenService({
    store,
    clock,
    config: {
      accessTokenTTL: 900,
      refreshTokenTTL: 43_200,
      maxSessionLifetime: 86_400,
      refreshReuseGrace: 10,
    },
  });
  await store.ping();
  const session = await tokens.createSession({
    identity: { kind: 'static', user: { username: 'ada@example.com', groups: ['developers'], extra: {} } },
    username: 'ada@example.com',
    source: 'admin',
  });
  const access = await tokens.issueAccessToken(session, ['https://kubernetes.default.svc']);
  expect((await tokens.lookupAccessToken(access.token)).status).toBe('valid');
  const refresh = await tokens.issueRefreshToken(session, 'kube-oidc-bridge', [
    'https://kubernetes.default.svc',
  ]);
  expect((await tokens.redeemRefreshToken(refresh.token, 'kube-oidc-bridge')).status).toBe('ok');
  await store.putEphemeral('login', 'state-1', { n: 1 }, 600);
  expect(await store.updateEphemeral('login', 'state-1', { n: 2 })).toBe(true);
  expect(await store.getEphemeral('login', 'state-1')).toEqual({ n: 2 });
  expect(await store.takeEphemeral('login', 'state-1')).toEqual({ n: 2 });
  expect(await store.hit('login:203.0.113.7', 60)).toBe(1);
  expect(await tokens.listSessions({ username: 'ada@example.com' })).toHaveLength(1);
  expect(await tokens.revokeAccessToken(access.token)).toBeDefined();
  expect(await tokens.revokeUser('ada@example.com')).toBe(0);
}

describe('the Redis ACL the deployment guide recommends', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startTestRedis();
    const reply = await redis.command(...recommendedAcl());
    expect(reply.trim()).toBe('+OK');
  });

  afterAll(async () => {
    await redis?.close();
  });

  it('lets the bridge do everything it does with the default key prefix', async () => {
    // Database 2, as in a shared Redis: the bridge then also needs SELECT.
    const url = redis.url.replace(/\/0$/, '/2');
    const store = createStore({ redis: redisConfig(url, 'kob:') }, { clock: new ManualClock(1_800_000_000) });
    try {
      await exerciseStore(store);
    } finally {
      await store.close();
    }
  });

  it('keeps the bridge out of keys outside its prefix', async () => {
    const store = createStore(
      { redis: redisConfig(redis.url, 'other:') },
      { clock: new ManualClock(1_800_000_000) },
    );
    try {
      await expect(store.putEphemeral('login', 'state-1', { n: 1 }, 600)).rejects.toThrow(/redis/);
    } finally {
      await store.close();
    }
  });
});
