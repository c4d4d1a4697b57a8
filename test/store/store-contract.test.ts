import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import {
  createMemoryStore,
  createRedisStore,
  EXPIRED_ACCESS_TOKEN_RETENTION,
  type TokenStore,
} from '../../src/store/index.js';
import { startTestRedisCluster } from '../support/redis-cluster.js';
import { SENTINEL_MASTER_NAME, startTestRedisSentinel } from '../support/redis-sentinel.js';
import { startTestRedis } from '../support/redis-server.js';
import { accessRecord, refreshRecord, sessionRecord, tokenHash } from './store-fixtures.js';

/** How each implementation under the contract is built; Redis gets a fresh key prefix per test. */
interface StoreUnderTest {
  name: string;
  setup(): Promise<void>;
  create(clock: ManualClock): TokenStore;
  teardown(): Promise<void>;
}

let prefixSerial = 0;

/** Where a Redis-backed store under the contract connects: one entry per deployment shape. */
type RedisTarget = Pick<RedisConfig, 'url' | 'sentinel' | 'cluster'>;

/** A Redis store against a real server (or set of servers) the entry starts and stops itself. */
function redisImplementation(
  name: string,
  start: () => Promise<{ target: RedisTarget; close(): Promise<void> }>,
): StoreUnderTest {
  let running: { target: RedisTarget; close(): Promise<void> } | undefined;
  return {
    name,
    async setup() {
      running = await start();
    },
    create(clock) {
      prefixSerial += 1;
      return createRedisStore({
        config: {
          ...running!.target,
          keyPrefix: `contract${prefixSerial}:`,
          connectTimeout: 2,
          commandTimeout: 2,
        },
        clock,
      });
    },
    async teardown() {
      await running?.close();
    },
  };
}

const implementations: StoreUnderTest[] = [
  {
    name: 'memory',
    async setup() {},
    create: (clock) => createMemoryStore({ clock }),
    async teardown() {},
  },
  redisImplementation('redis', async () => {
    const redis = await startTestRedis();
    return { target: { url: redis.url }, close: () => redis.close() };
  }),
  redisImplementation('redis sentinel', async () => {
    const setup = await startTestRedisSentinel();
    return {
      target: { sentinel: { name: SENTINEL_MASTER_NAME, nodes: setup.seeds } },
      close: () => setup.close(),
    };
  }),
  redisImplementation('redis cluster', async () => {
    const cluster = await startTestRedisCluster();
    return { target: { cluster: { nodes: cluster.seeds } }, close: () => cluster.close() };
  }),
];

describe.each(implementations)('TokenStore contract: $name', (impl) => {
  let clock: ManualClock;
  let store: TokenStore;

  beforeAll(() => impl.setup());
  afterAll(() => impl.teardown());

  function freshStore(): TokenStore {
    clock = new ManualClock();
    store = impl.create(clock);
    return store;
  }

  afterEach(async () => {
    await store.close();
  });

  it('session put/get/list/filter', async () => {
    freshStore();
    const now = clock.now();
    const alice = sessionRecord(now, { username: 'alice' });
    clock.advance(1);
    const bob = sessionRecord(clock.now(), { username: 'bob', description: 'minted by admin' });
    await store.putSession(bob);
    await store.putSession(alice);

    expect(await store.getSession(alice.id)).toEqual(alice);
    expect(await store.getSession('no-such-session')).toBeUndefined();
    expect((await store.listSessions()).map((s) => s.id)).toEqual([alice.id, bob.id]);
    expect(await store.listSessions({ username: 'bob' })).toEqual([bob]);
    expect(await store.listSessions({ username: 'carol' })).toEqual([]);
  });

  it('countSessions counts live sessions only: revoked and expired ones drop out', async () => {
    freshStore();
    const now = clock.now();
    expect(await store.countSessions()).toBe(0);
    const short = sessionRecord(now, { expiresAt: now + 60 });
    const revoked = sessionRecord(now);
    const kept = sessionRecord(now, { username: 'bob' });
    for (const session of [short, revoked, kept]) await store.putSession(session);
    expect(await store.countSessions()).toBe(3);
    await store.revokeSession(revoked.id);
    expect(await store.countSessions()).toBe(2);
    clock.advance(60);
    expect(await store.countSessions()).toBe(1);
  });

  it('a stored session is a copy: later changes by the caller do not leak in', async () => {
    freshStore();
    const session = sessionRecord(clock.now());
    await store.putSession(session);
    session.username = 'mallory';
    expect((await store.getSession(session.id))?.username).toBe('alice@example.com');
  });

  it('putSession replaces the record (updated claims, rotated upstream refresh token)', async () => {
    freshStore();
    const session = sessionRecord(clock.now());
    await store.putSession(session);
    await store.putSession({ ...session, upstreamRefreshToken: 'encrypted-v2' });
    expect((await store.getSession(session.id))?.upstreamRefreshToken).toBe('encrypted-v2');
    expect(await store.listSessions()).toHaveLength(1);
  });

  it('revokeSession kills its access+refresh tokens', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    const other = sessionRecord(now);
    await store.putSession(session);
    await store.putSession(other);
    const [access, refresh, otherAccess] = [tokenHash('at'), tokenHash('rt'), tokenHash('at')];
    await store.putAccessToken(access, accessRecord(session, now));
    await store.putRefreshToken(refresh, refreshRecord(session, now));
    await store.putAccessToken(otherAccess, accessRecord(other, now));

    expect(await store.revokeSession(session.id)).toBe(true);

    expect(await store.getSession(session.id)).toBeUndefined();
    expect(await store.getAccessToken(access)).toBeUndefined();
    expect(await store.useRefreshToken(refresh)).toEqual({ status: 'unknown' });
    expect(await store.getAccessToken(otherAccess)).toEqual(accessRecord(other, now));
    expect(await store.revokeSession(session.id)).toBe(false);
    expect((await store.listSessions()).map((s) => s.id)).toEqual([other.id]);
  });

  it('revoking a session whose record was replaced after its tokens were issued still kills them', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    const [access, refresh] = [tokenHash('at'), tokenHash('rt')];
    await store.putAccessToken(access, accessRecord(session, now));
    await store.putRefreshToken(refresh, refreshRecord(session, now));
    await store.putSession({ ...session, username: 'renamed', upstreamRefreshToken: 'encrypted-v2' });

    expect(await store.revokeUser('renamed')).toBe(1);

    expect(await store.getAccessToken(access)).toBeUndefined();
    expect(await store.useRefreshToken(refresh)).toEqual({ status: 'unknown' });
  });

  it('a token issued for a session that is gone is not kept', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    await store.revokeSession(session.id);
    const [access, refresh] = [tokenHash('at'), tokenHash('rt')];
    await store.putAccessToken(access, accessRecord(session, now));
    await store.putRefreshToken(refresh, refreshRecord(session, now));
    expect(await store.getAccessToken(access)).toBeUndefined();
    expect(await store.useRefreshToken(refresh)).toEqual({ status: 'unknown' });
  });

  it("revokeUser kills all of a user's sessions only", async () => {
    freshStore();
    const now = clock.now();
    const laptop = sessionRecord(now, { username: 'alice' });
    const desktop = sessionRecord(now, { username: 'alice' });
    const bobs = sessionRecord(now, { username: 'bob' });
    const tokens = new Map([laptop, desktop, bobs].map((s) => [s, tokenHash('at')]));
    for (const [session, hash] of tokens) {
      await store.putSession(session);
      await store.putAccessToken(hash, accessRecord(session, now));
    }

    expect(await store.revokeUser('alice')).toBe(2);

    expect(await store.getAccessToken(tokens.get(laptop)!)).toBeUndefined();
    expect(await store.getAccessToken(tokens.get(desktop)!)).toBeUndefined();
    expect(await store.getAccessToken(tokens.get(bobs)!)).toBeDefined();
    expect((await store.listSessions()).map((s) => s.username)).toEqual(['bob']);
    expect(await store.revokeUser('alice')).toBe(0);
  });

  it('a session renamed by updated claims is listed and revoked under its new username only', async () => {
    freshStore();
    const session = sessionRecord(clock.now(), { username: 'old-name' });
    await store.putSession(session);
    await store.putSession({ ...session, username: 'new-name' });
    expect(await store.listSessions({ username: 'old-name' })).toEqual([]);
    expect(await store.revokeUser('old-name')).toBe(0);
    expect((await store.listSessions({ username: 'new-name' })).map((s) => s.id)).toEqual([session.id]);
    expect(await store.revokeUser('new-name')).toBe(1);
    expect(await store.getSession(session.id)).toBeUndefined();
  });

  it('access token expiry via clock: kept for the retention window, then gone', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    const hash = tokenHash('at');
    await store.putAccessToken(hash, accessRecord(session, now, 60));

    clock.advance(59);
    expect(await store.getAccessToken(hash)).toEqual(accessRecord(session, now, 60));
    // Past its expiresAt the record is still returned for the retention: the token service decides.
    clock.advance(1);
    expect(await store.getAccessToken(hash)).toEqual(accessRecord(session, now, 60));
    clock.advance(EXPIRED_ACCESS_TOKEN_RETENTION - 1);
    expect(await store.getAccessToken(hash)).toEqual(accessRecord(session, now, 60));
    clock.advance(1);
    expect(await store.getAccessToken(hash)).toBeUndefined();
  });

  it('session expiry via clock ends the session', async () => {
    freshStore();
    const session = sessionRecord(clock.now());
    await store.putSession(session);
    clock.set(session.expiresAt);
    expect(await store.getSession(session.id)).toBeUndefined();
    expect(await store.revokeSession(session.id)).toBe(false);
  });

  it('deleteAccessToken and deleteRefreshToken remove one token and say whether it existed', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    const [access, refresh] = [tokenHash('at'), tokenHash('rt')];
    await store.putAccessToken(access, accessRecord(session, now));
    await store.putRefreshToken(refresh, refreshRecord(session, now));

    expect(await store.deleteAccessToken(access)).toBe(true);
    expect(await store.deleteAccessToken(access)).toBe(false);
    expect(await store.deleteRefreshToken(refresh)).toBe(true);
    expect(await store.deleteRefreshToken(refresh)).toBe(false);
    expect(await store.getSession(session.id)).toEqual(session);
  });

  it('refresh use fresh→reused with firstUsedAt', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    const hash = tokenHash('rt');
    const record = refreshRecord(session, now);
    await store.putRefreshToken(hash, record);

    expect(await store.useRefreshToken(tokenHash('rt'))).toEqual({ status: 'unknown' });
    clock.advance(5);
    expect(await store.useRefreshToken(hash)).toEqual({ status: 'fresh', record });
    clock.advance(30);
    expect(await store.useRefreshToken(hash)).toEqual({ status: 'reused', record, firstUsedAt: now + 5 });
    expect(await store.useRefreshToken(hash)).toEqual({ status: 'reused', record, firstUsedAt: now + 5 });
  });

  it('concurrent first uses of one refresh token: exactly one is fresh', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    const hash = tokenHash('rt');
    await store.putRefreshToken(hash, refreshRecord(session, now));
    const uses = await Promise.all(Array.from({ length: 8 }, () => store.useRefreshToken(hash)));
    expect(uses.filter((u) => u.status === 'fresh')).toHaveLength(1);
    expect(uses.filter((u) => u.status === 'reused')).toHaveLength(7);
  });

  it('refresh token expiry via clock', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    const hash = tokenHash('rt');
    await store.putRefreshToken(hash, refreshRecord(session, now, 100));
    clock.advance(100);
    expect(await store.useRefreshToken(hash)).toEqual({ status: 'unknown' });
  });

  it('ephemeral take is single-use', async () => {
    freshStore();
    const state = { nonce: 'n-1', verifier: 'v-1', purpose: { kind: 'web' } };
    await store.putEphemeral('login', 'state-1', state, 600);

    expect(await store.getEphemeral('login', 'state-1')).toEqual(state);
    expect(await store.getEphemeral('code', 'state-1')).toBeUndefined();
    const takes = await Promise.all([
      store.takeEphemeral('login', 'state-1'),
      store.takeEphemeral('login', 'state-1'),
    ]);
    expect(takes.filter((t) => t !== undefined)).toEqual([state]);
    expect(await store.getEphemeral('login', 'state-1')).toBeUndefined();
  });

  it('ephemeral records expire via clock', async () => {
    freshStore();
    await store.putEphemeral('code', 'c-1', { user: 'alice' }, 60);
    clock.advance(60);
    expect(await store.getEphemeral('code', 'c-1')).toBeUndefined();
    expect(await store.takeEphemeral('code', 'c-1')).toBeUndefined();
  });

  it('updateEphemeral keeps TTL', async () => {
    freshStore();
    await store.putEphemeral('device', 'd-1', { approved: false }, 100);
    clock.advance(60);
    expect(await store.updateEphemeral('device', 'd-1', { approved: true })).toBe(true);
    expect(await store.getEphemeral('device', 'd-1')).toEqual({ approved: true });
    clock.advance(40);
    expect(await store.getEphemeral('device', 'd-1')).toBeUndefined();
    expect(await store.updateEphemeral('device', 'd-1', { approved: true })).toBe(false);
    expect(await store.updateEphemeral('device', 'never-there', { approved: true })).toBe(false);
  });

  it('peekRefreshToken reads without marking the token used', async () => {
    freshStore();
    const now = clock.now();
    const session = sessionRecord(now);
    await store.putSession(session);
    const hash = tokenHash('rt');
    const record = refreshRecord(session, now, 100);
    await store.putRefreshToken(hash, record);

    expect(await store.peekRefreshToken(tokenHash('rt'))).toEqual({ status: 'unknown' });
    expect(await store.peekRefreshToken(hash)).toEqual({ status: 'fresh', record });
    expect(await store.peekRefreshToken(hash)).toEqual({ status: 'fresh', record });
    clock.advance(3);
    expect(await store.useRefreshToken(hash)).toEqual({ status: 'fresh', record });
    expect(await store.peekRefreshToken(hash)).toEqual({ status: 'reused', record, firstUsedAt: now + 3 });
    clock.advance(97);
    expect(await store.peekRefreshToken(hash)).toEqual({ status: 'unknown' });
  });

  it('putEphemeralIfAbsent creates once; concurrent creators: exactly one wins', async () => {
    freshStore();
    const wins = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.putEphemeralIfAbsent('lock', 'l-1', { holder: i }, 30)),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    const holder = wins.indexOf(true);
    expect(await store.getEphemeral('lock', 'l-1')).toEqual({ holder });
    clock.advance(30);
    expect(await store.putEphemeralIfAbsent('lock', 'l-1', { holder: 'next' }, 30)).toBe(true);
    expect(await store.putEphemeralIfAbsent('lock', 'l-2', { holder: 'x' }, 0)).toBe(false);
  });

  it('swapEphemeral is compare-and-set: a stale writer loses, the TTL is kept', async () => {
    freshStore();
    const pending = { status: 'pending', lastPollAt: 0, nested: { a: [1, 2] } };
    await store.putEphemeral('device', 'd-1', pending, 100);
    const read = await store.getEphemeral<typeof pending>('device', 'd-1');
    const approved = { ...pending, status: 'approved' };
    expect(await store.swapEphemeral('device', 'd-1', read, approved)).toBe(true);
    // A poll that read `pending` before the approval must not write over it.
    expect(await store.swapEphemeral('device', 'd-1', read, { ...pending, lastPollAt: 5 })).toBe(false);
    expect(await store.getEphemeral('device', 'd-1')).toEqual(approved);
    const concurrent = await Promise.all(
      ['a', 'b', 'c'].map((who) => store.swapEphemeral('device', 'd-1', approved, { ...approved, who })),
    );
    expect(concurrent.filter(Boolean)).toHaveLength(1);
    clock.advance(100);
    expect(await store.getEphemeral('device', 'd-1')).toBeUndefined();
    expect(await store.swapEphemeral('device', 'never-there', null, { x: 1 })).toBe(false);
  });

  it('hit counts per window', async () => {
    freshStore();
    clock.set(1_800_000_000); // a multiple of 60: the window starts now
    expect(await store.hit('login:127.0.0.1', 60)).toBe(1);
    expect(await store.hit('login:127.0.0.1', 60)).toBe(2);
    expect(await store.hit('login:10.0.0.1', 60)).toBe(1);
    clock.advance(59);
    expect(await store.hit('login:127.0.0.1', 60)).toBe(3);
    clock.advance(1);
    expect(await store.hit('login:127.0.0.1', 60)).toBe(1);
  });

  it('list excludes expired', async () => {
    freshStore();
    const now = clock.now();
    const short = sessionRecord(now, { expiresAt: now + 10 });
    const long = sessionRecord(now, { expiresAt: now + 1000 });
    await store.putSession(short);
    await store.putSession(long);
    clock.advance(10);
    expect((await store.listSessions()).map((s) => s.id)).toEqual([long.id]);
    expect((await store.listSessions({ username: short.username })).map((s) => s.id)).toEqual([long.id]);
  });

  it('ping answers while open; calls after close fail with StoreUnavailableError', async () => {
    const closing = freshStore();
    await expect(closing.ping()).resolves.toBeUndefined();
    await closing.close();
    await expect(closing.getSession('x')).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
  });
});
