import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConfig, TokensConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { hashCredential } from '../../src/core/token-format.js';
import type { MappingSet } from '../../src/mapping/index.js';
import {
  createMemoryStore,
  createRedisStore,
  EXPIRED_ACCESS_TOKEN_RETENTION,
  type TokenStore,
} from '../../src/store/index.js';
import { TokenService } from '../../src/tokens/index.js';
import { decideTokenReview } from '../../src/verifier/index.js';
import { startTestRedisCluster } from '../support/redis-cluster.js';
import { SENTINEL_MASTER_NAME, startTestRedisSentinel } from '../support/redis-sentinel.js';
import { startTestRedis } from '../support/redis-server.js';

const CONFIG: TokensConfig = {
  accessTokenTTL: 900,
  refreshTokenTTL: 43_200,
  maxSessionLifetime: 86_400,
  refreshReuseGrace: 10,
  pepper: 'test-pepper-0123456789abcdef',
};
const AUDIENCE = ['https://kubernetes.default.svc'];
const CLIENT = 'kube-oidc-bridge';

let prefixSerial = 0;
const servers: { close(): Promise<void> }[] = [];

type RedisTarget = Pick<RedisConfig, 'url' | 'sentinel' | 'cluster'>;

/** A Redis store on servers the entry starts itself: standalone, Sentinel or Cluster. */
function redisStore(name: string, start: () => Promise<{ target: RedisTarget; close(): Promise<void> }>) {
  let target: RedisTarget | undefined;
  return {
    name,
    async setup() {
      const started = await start();
      servers.push(started);
      target = started.target;
    },
    create(clock: ManualClock): TokenStore {
      prefixSerial += 1;
      return createRedisStore({
        config: { ...target!, keyPrefix: `tokens${prefixSerial}:`, connectTimeout: 2, commandTimeout: 2 },
        clock,
      });
    },
  };
}
const stores = [
  { name: 'memory', setup: async () => {}, create: (clock: ManualClock) => createMemoryStore({ clock }) },
  redisStore('redis', async () => {
    const redis = await startTestRedis();
    return { target: { url: redis.url }, close: () => redis.close() };
  }),
  redisStore('redis sentinel', async () => {
    const setup = await startTestRedisSentinel();
    return {
      target: { sentinel: { name: SENTINEL_MASTER_NAME, nodes: setup.seeds } },
      close: () => setup.close(),
    };
  }),
  redisStore('redis cluster', async () => {
    const cluster = await startTestRedisCluster();
    return { target: { cluster: { nodes: cluster.seeds } }, close: () => cluster.close() };
  }),
];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe.each(stores)('TokenService on the $name store', (impl) => {
  let clock: ManualClock;
  let store: TokenStore;
  let tokens: TokenService;

  beforeAll(() => impl.setup());

  function service(config: Partial<TokensConfig> = {}): TokenService {
    clock = new ManualClock();
    store = impl.create(clock);
    tokens = new TokenService({ store, clock, config: { ...CONFIG, ...config } });
    return tokens;
  }

  afterEach(async () => {
    await store.close();
  });

  function adminSession(username = 'alice', lifetime?: number) {
    return tokens.createSession({
      identity: { kind: 'static', user: { username, groups: ['dev'], extra: {} } },
      username,
      source: 'admin',
      description: 'minted by admin',
      ...(lifetime !== undefined && { lifetime }),
    });
  }

  async function login(username = 'alice') {
    const session = await tokens.createSession({
      identity: { kind: 'claims', upstream: 'corp', claims: { sub: `sub-${username}`, email: username } },
      username,
      source: 'cli',
      upstreamIssuer: 'https://idp.example.com',
      subject: `sub-${username}`,
    });
    const access = await tokens.issueAccessToken(session, AUDIENCE);
    const refresh = await tokens.issueRefreshToken(session, CLIENT, AUDIENCE);
    return { session, access, refresh };
  }

  it('mint+lookup: a minted token looks up as valid with the session identity and audiences', async () => {
    service();
    const session = await adminSession();
    const { token, expiresAt } = await tokens.issueAccessToken(session, AUDIENCE);

    expect(token).toMatch(/^kob_[A-Za-z0-9_-]{49}$/);
    expect(expiresAt).toBe(clock.now() + CONFIG.accessTokenTTL);
    expect(await tokens.lookupAccessToken(token)).toEqual({
      status: 'valid',
      record: {
        sessionId: session.id,
        username: 'alice',
        identity: session.identity,
        audiences: AUDIENCE,
        expiresAt,
      },
    });
    expect(await tokens.getSession(session.id)).toEqual(session);
  });

  it('the store holds the peppered hash of a token, not the token', async () => {
    service();
    const session = await adminSession();
    const { token } = await tokens.issueAccessToken(session, AUDIENCE);
    const pepper = Buffer.from(CONFIG.pepper!);
    expect(await store.getAccessToken(hashCredential(token, pepper))).toBeDefined();
    expect(await store.getAccessToken(hashCredential(token))).toBeUndefined();
    expect(await store.getAccessToken(token)).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['wrong prefix', 'xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['refresh token presented as access token', 'REFRESH'],
    ['contains a space', 'kob_ AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['checksum broken', 'CHECKSUM'],
  ])('malformed: %s', async (_name, value) => {
    service();
    const { access, refresh } = await login();
    const token =
      value === 'REFRESH'
        ? refresh.token
        : value === 'CHECKSUM'
          ? `${access.token.slice(0, -1)}${access.token.endsWith('A') ? 'B' : 'A'}`
          : value;
    expect(await tokens.lookupAccessToken(token)).toEqual({ status: 'malformed' });
  });

  it('malformed tokens never reach the store', async () => {
    service();
    await store.close();
    expect(await tokens.lookupAccessToken('kob_not-a-token')).toEqual({ status: 'malformed' });
  });

  it('unknown: a well-formed token the store never saw', async () => {
    service();
    const elsewhere = createMemoryStore({ clock });
    const other = new TokenService({ store: elsewhere, clock, config: CONFIG });
    const stranger = await other.issueAccessToken(await other.createSession(sessionInput()), AUDIENCE);
    await elsewhere.close();
    expect(await tokens.lookupAccessToken(stranger.token)).toEqual({ status: 'unknown' });
  });

  it('expired: a token past its expiry reviews as `expired`, not `unknown` (the store does not hide it)', async () => {
    service();
    const { access } = await login();
    clock.set(access.expiresAt - 1);
    expect((await tokens.lookupAccessToken(access.token)).status).toBe('valid');
    clock.set(access.expiresAt);
    expect(await tokens.lookupAccessToken(access.token)).toEqual({ status: 'expired' });
    const review = await decideTokenReview(
      { apiVersion: 'authentication.k8s.io/v1', token: access.token, audiences: AUDIENCE },
      {
        lookupAccessToken: (t) => tokens.lookupAccessToken(t),
        mapping: {} as MappingSet,
        audiences: AUDIENCE,
      },
    );
    expect(review).toMatchObject({ result: 'expired', status: { authenticated: false } });
    // Long gone: the store dropped it, as for a token that never existed.
    clock.set(access.expiresAt + EXPIRED_ACCESS_TOKEN_RETENTION);
    expect(await tokens.lookupAccessToken(access.token)).toEqual({ status: 'unknown' });
  });

  it('session lifetime caps access and refresh expiry', async () => {
    service();
    const session = await adminSession('alice', 600);
    expect(session.expiresAt).toBe(clock.now() + 600);
    const access = await tokens.issueAccessToken(session, AUDIENCE, { ttl: 3600 });
    const refresh = await tokens.issueRefreshToken(session, CLIENT, AUDIENCE);
    expect(access.expiresAt).toBe(session.expiresAt);
    expect(refresh.expiresAt).toBe(session.expiresAt);

    clock.set(session.expiresAt);
    expect((await tokens.lookupAccessToken(access.token)).status).toBe('expired');
    expect(await tokens.redeemRefreshToken(refresh.token, CLIENT)).toEqual({
      status: 'invalid',
      reason: 'unknown',
    });
    await expect(tokens.issueAccessToken(session, AUDIENCE)).rejects.toMatchObject({
      code: 'ERR_SESSION_ENDED',
    });
  });

  it('default session lifetime is tokens.maxSessionLifetime', async () => {
    service({ maxSessionLifetime: 7200 });
    const { session, refresh } = await login();
    expect(session.expiresAt).toBe(clock.now() + 7200);
    expect(refresh.expiresAt).toBe(session.expiresAt);
  });

  it('refresh rotation: a fresh refresh token redeems once, the new one redeems next', async () => {
    service();
    const { session, refresh } = await login();

    const first = await tokens.redeemRefreshToken(refresh.token, CLIENT);
    expect(first).toMatchObject({ status: 'ok', graceReuse: false, session: { id: session.id } });
    if (first.status !== 'ok') return;
    expect(first.record.audiences).toEqual(AUDIENCE);
    const rotated = await tokens.issueRefreshToken(first.session, CLIENT, ['https://other.cluster']);

    clock.advance(60);
    const second = await tokens.redeemRefreshToken(rotated.token, CLIENT);
    expect(second).toMatchObject({
      status: 'ok',
      graceReuse: false,
      record: { audiences: ['https://other.cluster'] },
    });
  });

  it('concurrent refresh within grace both succeed (dex#1976)', async () => {
    service();
    const { refresh } = await login();
    const results = await Promise.all([
      tokens.redeemRefreshToken(refresh.token, CLIENT),
      tokens.redeemRefreshToken(refresh.token, CLIENT),
    ]);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(results.map((r) => r.status === 'ok' && r.graceReuse).sort()).toEqual([false, true]);

    clock.advance(CONFIG.refreshReuseGrace);
    expect(await tokens.redeemRefreshToken(refresh.token, CLIENT)).toMatchObject({
      status: 'ok',
      graceReuse: true,
    });
  });

  it('reuse after grace revokes the family (old access tokens dead too)', async () => {
    service();
    const { session, access, refresh } = await login();
    const other = await login('bob');
    const redeemed = await tokens.redeemRefreshToken(refresh.token, CLIENT);
    expect(redeemed.status).toBe('ok');
    const newAccess = await tokens.issueAccessToken(session, AUDIENCE);
    const newRefresh = await tokens.issueRefreshToken(session, CLIENT, AUDIENCE);

    clock.advance(CONFIG.refreshReuseGrace + 1);
    expect(await tokens.redeemRefreshToken(refresh.token, CLIENT)).toEqual({
      status: 'reuse_detected',
      sessionId: session.id,
    });

    expect(await tokens.getSession(session.id)).toBeUndefined();
    expect((await tokens.lookupAccessToken(access.token)).status).toBe('unknown');
    expect((await tokens.lookupAccessToken(newAccess.token)).status).toBe('unknown');
    expect(await tokens.redeemRefreshToken(newRefresh.token, CLIENT)).toEqual({
      status: 'invalid',
      reason: 'unknown',
    });
    expect((await tokens.lookupAccessToken(other.access.token)).status).toBe('valid');
  });

  it('client mismatch: a refresh token is bound to the client it was issued to', async () => {
    service();
    const { refresh } = await login();
    expect(await tokens.redeemRefreshToken(refresh.token, 'another-client')).toEqual({
      status: 'invalid',
      reason: 'client_mismatch',
    });
  });

  it.each([
    ['malformed', 'kobrt_nope'],
    ['an access token', 'ACCESS'],
  ])('refresh token %s is refused as malformed', async (_name, value) => {
    service();
    const { access } = await login();
    const token = value === 'ACCESS' ? access.token : value;
    expect(await tokens.redeemRefreshToken(token, CLIENT)).toEqual({
      status: 'invalid',
      reason: 'malformed',
    });
  });

  it('revocation by access token revokes its whole session and returns it', async () => {
    service();
    const { session, access, refresh } = await login();
    expect(await tokens.revokeAccessToken(access.token)).toEqual(session);
    expect((await tokens.lookupAccessToken(access.token)).status).toBe('unknown');
    expect(await tokens.redeemRefreshToken(refresh.token, CLIENT)).toMatchObject({ status: 'invalid' });
    expect(await tokens.revokeAccessToken(access.token)).toBeUndefined();
    expect(await tokens.revokeAccessToken('kob_garbage')).toBeUndefined();
  });

  it('revocation by refresh token revokes the grant (RFC 7009)', async () => {
    service();
    const { session, access, refresh } = await login();
    expect(await tokens.revokeRefreshToken(refresh.token)).toEqual(session);
    expect((await tokens.lookupAccessToken(access.token)).status).toBe('unknown');
    expect(await tokens.revokeRefreshToken(refresh.token)).toBeUndefined();
  });

  it('revocation by session and by user', async () => {
    service();
    const a1 = await login('alice');
    const a2 = await login('alice');
    const b = await login('bob');

    expect(await tokens.revokeSession(a1.session.id)).toBe(true);
    expect((await tokens.lookupAccessToken(a1.access.token)).status).toBe('unknown');
    expect((await tokens.lookupAccessToken(a2.access.token)).status).toBe('valid');

    expect(await tokens.revokeUser('alice')).toBe(1);
    expect((await tokens.lookupAccessToken(a2.access.token)).status).toBe('unknown');
    expect((await tokens.lookupAccessToken(b.access.token)).status).toBe('valid');
    expect((await tokens.listSessions()).map((s) => s.username)).toEqual(['bob']);
  });

  it('a refresh token of a revoked session is refused', async () => {
    service();
    const { session, refresh } = await login();
    await tokens.revokeSession(session.id);
    expect(await tokens.redeemRefreshToken(refresh.token, CLIENT)).toEqual({
      status: 'invalid',
      reason: 'unknown',
    });
  });

  it('updateSession stores refreshed claims and a rotated upstream refresh token', async () => {
    service();
    const { session } = await login();
    await tokens.updateSession({
      ...session,
      identity: { kind: 'claims', upstream: 'corp', claims: { sub: 'sub-alice', groups: ['ops'] } },
      upstreamRefreshToken: 'sealed-v2',
    });
    expect(await tokens.getSession(session.id)).toMatchObject({
      identity: { claims: { groups: ['ops'] } },
      upstreamRefreshToken: 'sealed-v2',
    });
  });
});

function sessionInput() {
  return {
    identity: { kind: 'static' as const, user: { username: 'eve', groups: [], extra: {} } },
    username: 'eve',
    source: 'admin' as const,
  };
}
