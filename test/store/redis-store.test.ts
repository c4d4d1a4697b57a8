import { type AddressInfo, createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/config/index.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import { hashCredential } from '../../src/core/token-format.js';
import {
  createRedisStore,
  createStore,
  EXPIRED_ACCESS_TOKEN_RETENTION,
  type TokenStore,
} from '../../src/store/index.js';
import { RedisKeys } from '../../src/store/redis-keys.js';
import { StoreGeneration } from '../../src/store/store-generation.js';
import { TokenService } from '../../src/tokens/index.js';
import { createCertWorkspace } from '../support/certs.js';
import { freePort } from '../support/free-port.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { commandCounts, diffCounts } from './redis-command-stats.js';
import { accessRecord, sessionRecord, tokenHash } from './store-fixtures.js';

const TOKENS = {
  accessTokenTTL: 900,
  refreshTokenTTL: 43_200,
  maxSessionLifetime: 86_400,
  refreshReuseGrace: 10,
};
const AUDIENCE = ['https://kubernetes.default.svc'];

function redisConfig(url: string, overrides: Partial<RedisConfig> = {}): RedisConfig {
  return { url, keyPrefix: 'kob:', connectTimeout: 2, commandTimeout: 1, ...overrides };
}

/** Every key of a database with its type, TTL and every value it holds, read by an admin client. */
async function dumpDatabase(admin: Redis): Promise<{ key: string; ttl: number; values: string[] }[]> {
  const keys: string[] = [];
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const [next, batch] = await admin.scan(cursor, 'COUNT', 100);
    keys.push(...batch);
    cursor = next;
    if (cursor === '0') break;
  }
  const dump = [];
  for (const key of keys) {
    const type = await admin.type(key);
    const values =
      type === 'string'
        ? [(await admin.get(key)) ?? '']
        : type === 'zset'
          ? await admin.zrange(key, '0', '-1', 'WITHSCORES')
          : type === 'set'
            ? await admin.smembers(key)
            : type === 'hash'
              ? Object.entries(await admin.hgetall(key)).flat()
              : [`unexpected type ${type}`];
    dump.push({ key, ttl: await admin.ttl(key), values });
  }
  return dump;
}

/** Fills a store through the TokenService the way the issuer does: sessions, tokens, rotation, state. */
async function populate(store: TokenStore, clock = new ManualClock()) {
  const tokens = new TokenService({ store, clock, config: TOKENS });
  const session = await tokens.createSession({
    identity: { kind: 'claims', upstream: 'corp', claims: { sub: 's-1', email: 'alice@example.com' } },
    username: 'alice@example.com',
    source: 'cli',
    upstreamRefreshToken: 'sealed-upstream-token',
  });
  const admin = await tokens.createSession({
    identity: { kind: 'static', user: { username: 'ci-bot', groups: [], extra: {} } },
    username: 'ci-bot',
    source: 'admin',
    lifetime: 3600,
  });
  const credentials = [
    await tokens.issueAccessToken(session, AUDIENCE),
    await tokens.issueRefreshToken(session, 'kube-oidc-bridge', AUDIENCE),
    await tokens.issueAccessToken(admin, AUDIENCE, { ttl: 3600 }),
  ];
  const redeemed = await tokens.redeemRefreshToken(credentials[1]!.token, 'kube-oidc-bridge');
  expect(redeemed.status).toBe('ok');
  credentials.push(await tokens.issueRefreshToken(session, 'kube-oidc-bridge', AUDIENCE));
  await store.putEphemeral('login', 'state-1', { nonce: 'n', verifier: 'v' }, 600);
  await store.putEphemeral('device', 'dev-1', { approved: false }, 600);
  await store.hit('user-code:127.0.0.1', 60);
  return { tokens, session, credentials: credentials.map((c) => c.token) };
}

describe('Redis store: what lands in Redis', () => {
  let redis: TestRedis;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startTestRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.close();
  });

  it('every key under the prefix has a TTL (> 0), all keys scanned', async () => {
    const store = createRedisStore({
      config: redisConfig(redis.url.replace(/\/0$/, '/1')),
      clock: systemClock,
    });
    await admin.select(1);
    try {
      await populate(store, new ManualClock(systemClock.now()));
      await store.revokeSession('no-such-session');
      const dump = await dumpDatabase(admin);
      expect(dump.length).toBeGreaterThanOrEqual(10);
      for (const { key, ttl } of dump) expect({ key, ttl: ttl > 0 }).toEqual({ key, ttl: true });
    } finally {
      await store.close();
      await admin.select(0);
    }
  });

  it('a dump of every key and value contains no raw token or refresh token', async () => {
    const store = createRedisStore({
      config: redisConfig(redis.url.replace(/\/0$/, '/2')),
      clock: systemClock,
    });
    await admin.select(2);
    try {
      const { credentials } = await populate(store, new ManualClock(systemClock.now()));
      const text = JSON.stringify(await dumpDatabase(admin));
      expect(text).toContain('alice@example.com');
      for (const credential of credentials) {
        const randomPart = credential.slice(credential.indexOf('_') + 1, credential.indexOf('_') + 44);
        expect(text).not.toContain(credential);
        expect(text).not.toContain(randomPart);
      }
      expect(text).not.toMatch(/kob(rt)?_[A-Za-z0-9_-]{20}/);
    } finally {
      await store.close();
      await admin.select(0);
    }
  });

  it('keyPrefix respected: nothing is written outside it', async () => {
    const store = createRedisStore({
      config: redisConfig(redis.url.replace(/\/0$/, '/3'), { keyPrefix: 'team-a/kob:' }),
      clock: systemClock,
    });
    await admin.select(3);
    try {
      await populate(store, new ManualClock(systemClock.now()));
      const keys = (await dumpDatabase(admin)).map((d) => d.key);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.startsWith('team-a/kob:'))).toEqual([]);
    } finally {
      await store.close();
      await admin.select(0);
    }
  });

  it('keys one operation touches together share a hash tag (one Cluster slot)', async () => {
    const store = createRedisStore({
      config: redisConfig(redis.url.replace(/\/0$/, '/4')),
      clock: systemClock,
    });
    await admin.select(4);
    try {
      const { session } = await populate(store, new ManualClock(systemClock.now()));
      const keys = (await dumpDatabase(admin)).map((d) => d.key);
      const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
      const sessionKeys = keys.filter((k) => k.startsWith('kob:session:'));
      // The session's tokens are listed in its own value: one key per session.
      expect(sessionKeys.filter((k) => tag(k) === session.id)).toEqual([`kob:session:{${session.id}}`]);
      const markers = keys.filter((k) => k.endsWith(':used'));
      expect(markers).toHaveLength(1);
      expect(keys).toContain(`kob:rt:{${tag(markers[0]!)}}`);
    } finally {
      await store.close();
      await admin.select(0);
    }
  });

  it('getAccessToken is the hot path: exactly one GET and no other command', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: redisConfig(redis.url), clock });
    try {
      const session = sessionRecord(clock.now());
      const hash = tokenHash('at');
      await store.putSession(session);
      await store.putAccessToken(hash, accessRecord(session, clock.now()));
      await store.ping();
      const before = await commandCounts(admin);
      expect(await store.getAccessToken(hash)).toBeDefined();
      const after = await commandCounts(admin);
      expect(diffCounts(before, after)).toEqual({ get: 1 });
    } finally {
      await store.close();
    }
  });

  it.each([
    ['not JSON', '{"sessionId":'],
    ['JSON but not a record', '"just a string"'],
    ['a record without expiresAt', '{"sessionId":"s"}'],
  ])('a corrupt access token record (%s) is a store failure, never a success or a miss', async (_n, raw) => {
    const store = createRedisStore({
      config: redisConfig(redis.url, { keyPrefix: 'corrupt:' }),
      clock: systemClock,
    });
    try {
      const hash = tokenHash('at');
      await admin.set(`corrupt:at:{${hash}}`, raw, 'EX', 60);
      await expect(store.getAccessToken(hash)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('a record whose expiresAt has passed is not returned even if Redis still holds the key', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: redisConfig(redis.url, { keyPrefix: 'skew:' }), clock });
    try {
      const hash = tokenHash('at');
      // Access tokens: past their expiresAt *and* the retention window (the token service decides
      // `expired` inside the window).
      const gone = clock.now() - EXPIRED_ACCESS_TOKEN_RETENTION - 1;
      const record = { ...accessRecord(sessionRecord(clock.now()), clock.now()), expiresAt: gone };
      await admin.set(`skew:at:{${hash}}`, JSON.stringify(record), 'EX', 600);
      expect(await store.getAccessToken(hash)).toBeUndefined();
      const session = { ...sessionRecord(clock.now()), expiresAt: clock.now() - 1 };
      await admin.set(`skew:session:{${session.id}}`, JSON.stringify(session), 'EX', 600);
      expect(await store.getSession(session.id)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('createStore picks Redis for store.redis and memory for store.memory', async () => {
    const fromRedis = createStore({ redis: redisConfig(redis.url) }, { clock: systemClock });
    const fromMemory = createStore({ memory: {} }, { clock: systemClock });
    try {
      expect([fromRedis.kind, fromMemory.kind]).toEqual(['redis', 'memory']);
      await expect(fromRedis.ping()).resolves.toBeUndefined();
    } finally {
      await fromRedis.close();
      await fromMemory.close();
    }
  });

  it('a key prefix with a brace is refused at start (it would break the hash tags)', () => {
    expect(() =>
      createRedisStore({ config: redisConfig(redis.url, { keyPrefix: 'kob{x}:' }), clock: systemClock }),
    ).toThrow(/store\.redis\.keyPrefix/);
  });
});

describe('Redis store: generation marker', () => {
  it('a vanished marker seen by overlapping checks (timer, reconnect, reviews) is one loss, logged and counted once', async () => {
    const redis = await startTestRedis();
    const client = new Redis(redis.url);
    const losses: unknown[] = [];
    const generation = new StoreGeneration({
      redis: client,
      keys: new RedisKeys('once:'),
      clock: systemClock,
      onDataLoss: (loss) => losses.push(loss),
    });
    try {
      await generation.check();
      const markers = await client.keys('once:generation:*');
      expect(markers).toHaveLength(1);
      await client.del(...markers);
      await Promise.all([generation.check(), generation.check(), generation.check()]);
      expect(losses).toHaveLength(1);
      expect(generation.lastLoss()?.count).toBe(1);
      expect(await client.keys('once:generation:*')).toHaveLength(1);
    } finally {
      client.disconnect();
      await redis.close();
    }
  });
});

describe('Redis store: outage and recovery', () => {
  it('Redis stopped → StoreUnavailableError quickly; restarted → next call succeeds on the same store', async () => {
    const redis = await startTestRedis();
    const store = createRedisStore({ config: redisConfig(redis.url), clock: systemClock });
    try {
      await store.ping();
      await redis.stop();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await expect(store.getAccessToken(tokenHash('at'))).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(3000);
      }
      await redis.start();
      expect(await store.getAccessToken(tokenHash('at'))).toBeUndefined();
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
      await redis.close();
    }
  });

  it('a store created while Redis is down fails fast and heals once Redis is up', async () => {
    const redis = await startTestRedis();
    await redis.stop();
    const store = createRedisStore({ config: redisConfig(redis.url), clock: systemClock });
    try {
      const started = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
      await redis.start();
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
      await redis.close();
    }
  });

  it('a Redis that accepts connections but never answers costs at most the timeouts, then fails', async () => {
    // Accepts connections and never reads or answers: a Redis stopped with SIGSTOP looks like this.
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = createRedisStore({
      config: redisConfig(`redis://127.0.0.1:${port}/0`, { connectTimeout: 1, commandTimeout: 1 }),
      clock: systemClock,
    });
    try {
      const started = Date.now();
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => store.getAccessToken(tokenHash('at'))),
      );
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
      for (const r of results)
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await store.close();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('the error says which operation failed and never carries a value', async () => {
    const redis = await startTestRedis();
    const store = createRedisStore({ config: redisConfig(redis.url), clock: systemClock });
    try {
      await store.ping();
      await redis.stop();
      const hash = hashCredential('kob_secret-looking-token');
      const err = await store.getAccessToken(hash).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/^redis (getAccessToken|connect) failed/);
      expect((err as Error).message).not.toContain(hash);
    } finally {
      await store.close();
      await redis.close();
    }
  });
});

describe('Redis store: ACL user and password', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis({
      args: [
        '--user',
        'default',
        'off',
        '--user',
        'bridge',
        'on',
        '>s3cret-pass',
        '~kob:*',
        '+@all',
        '-@dangerous',
      ],
      auth: { username: 'bridge', password: 's3cret-pass' },
    });
  });
  afterAll(() => redis.close());

  it('connects as the ACL user (no @dangerous commands) and every operation works within its key pattern', async () => {
    const store = createRedisStore({
      config: redisConfig(redis.url, { username: 'bridge', password: 's3cret-pass' }),
      clock: systemClock,
    });
    try {
      const { tokens, session, credentials } = await populate(store, new ManualClock(systemClock.now()));
      expect(await tokens.lookupAccessToken(credentials[0]!)).toMatchObject({ status: 'valid' });
      expect(await store.takeEphemeral('login', 'state-1')).toEqual({ nonce: 'n', verifier: 'v' });
      expect(await store.updateEphemeral('device', 'dev-1', { approved: true })).toBe(true);
      expect(await tokens.listSessions({ username: session.username })).toEqual([session]);
      expect(await tokens.revokeUser(session.username)).toBe(1);
    } finally {
      await store.close();
    }
  });

  it.each([
    ['wrong password', { username: 'bridge', password: 'wrong' }],
    ['no credentials', {}],
    [
      'a key prefix outside the ACL key pattern',
      { username: 'bridge', password: 's3cret-pass', keyPrefix: 'x:' },
    ],
  ])('%s → StoreUnavailableError', async (_name, overrides) => {
    const store = createRedisStore({ config: redisConfig(redis.url, overrides), clock: systemClock });
    try {
      const err = await store.putSession(sessionRecord(systemClock.now())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/\((WRONGPASS|NOAUTH|NOPERM)\)$/);
    } finally {
      await store.close();
    }
  });
});

describe('Redis store: rediss:// with TLS', () => {
  const certs = createCertWorkspace();
  const ca = certs.createCA('redis');
  const server = ca.issue({ commonName: 'redis', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  let redis: TestRedis;
  let tlsPort: number;

  beforeAll(async () => {
    tlsPort = await freePort();
    redis = await startTestRedis({
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        server.certFile,
        '--tls-key-file',
        server.keyFile,
        '--tls-ca-cert-file',
        ca.certFile,
        '--tls-auth-clients',
        'no',
      ],
    });
  });
  afterAll(async () => {
    await redis.close();
    certs.dispose();
  });

  it('verifies the server against tlsCA and works over TLS', async () => {
    const store = createRedisStore({
      config: redisConfig(`rediss://127.0.0.1:${tlsPort}/0`, { tlsCA: ca.certFile }),
      clock: systemClock,
    });
    try {
      const session = sessionRecord(systemClock.now());
      await store.putSession(session);
      expect(await store.getSession(session.id)).toEqual(session);
      expect(await redis.command('EXISTS', `kob:session:{${session.id}}`)).toBe(':1\r\n');
    } finally {
      await store.close();
    }
  });

  it.each([
    ['without tlsCA (system roots do not know the test CA)', undefined],
    ['with the CA of someone else', 'OTHER'],
  ])('refuses a server it cannot verify: %s', async (_name, which) => {
    const tlsCA = which === 'OTHER' ? certs.createCA('other').certFile : undefined;
    const store = createRedisStore({
      config: redisConfig(`rediss://127.0.0.1:${tlsPort}/0`, tlsCA ? { tlsCA } : {}),
      clock: systemClock,
    });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});
