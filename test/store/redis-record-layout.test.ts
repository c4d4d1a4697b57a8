import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { createRedisStore, EXPIRED_ACCESS_TOKEN_RETENTION, type TokenStore } from '../../src/store/index.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { accessRecord, refreshRecord, sessionRecord, tokenHash } from './store-fixtures.js';

describe('Redis store: record layout', () => {
  let redis: TestRedis;
  let admin: Redis;
  let prefixSerial = 0;
  let store: TokenStore;
  let clock: ManualClock;
  let prefix: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.close();
  });

  function freshStore(): TokenStore {
    prefixSerial += 1;
    prefix = `layout${prefixSerial}:`;
    clock = new ManualClock(systemClock.now());
    store = createRedisStore({
      config: { url: redis.url, keyPrefix: prefix, connectTimeout: 2, commandTimeout: 2 },
      clock,
    });
    return store;
  }

  /** The token lines after the record in a session's value (`a:HASH EXPIRES`). */
  async function listedTokens(sessionId: string): Promise<string[]> {
    const value = (await admin.get(`${prefix}session:{${sessionId}}`)) ?? '';
    return value.split('\n').slice(1);
  }

  it("a session's value lists its tokens with their expiry; expired ones are dropped on the next write", async () => {
    freshStore();
    try {
      const now = clock.now();
      const session = sessionRecord(now);
      await store.putSession(session);
      const [shortLived, longLived, later] = [tokenHash('at'), tokenHash('rt'), tokenHash('at')];
      await store.putAccessToken(shortLived, accessRecord(session, now, 60));
      await store.putRefreshToken(longLived, refreshRecord(session, now, 1800));
      const shortKeptUntil = now + 60 + EXPIRED_ACCESS_TOKEN_RETENTION;
      expect(await listedTokens(session.id)).toEqual([
        `a:${shortLived} ${shortKeptUntil}`,
        `r:${longLived} ${now + 1800}`,
      ]);

      clock.set(shortKeptUntil);
      await store.putAccessToken(later, accessRecord(session, clock.now()));
      expect(await listedTokens(session.id)).toEqual([
        `r:${longLived} ${now + 1800}`,
        `a:${later} ${clock.now() + 900 + EXPIRED_ACCESS_TOKEN_RETENTION}`,
      ]);
      // The record is still the session's, and its key still ends with the session.
      expect(await store.getSession(session.id)).toEqual(session);
      const ttl = await admin.ttl(`${prefix}session:{${session.id}}`);
      expect(ttl).toBeGreaterThan(3500);
      expect(ttl).toBeLessThanOrEqual(3600);
    } finally {
      await store.close();
    }
  });

  it('records of the previous layout (JSON objects, a token index key, a user index key) are read and revoked', async () => {
    freshStore();
    try {
      const now = clock.now();
      const session = sessionRecord(now, { username: 'carol', description: 'minted by admin' });
      const [oldAccess, oldRefresh, newAccess] = [tokenHash('at'), tokenHash('rt'), tokenHash('at')];
      // Exactly what the store wrote before this layout, for a session with two tokens.
      const legacyAccess = { ...accessRecord(session, now), issuedAt: now };
      const legacyRefresh = { ...refreshRecord(session, now), issuedAt: now };
      await admin
        .multi()
        .set(`${prefix}session:{${session.id}}`, JSON.stringify(session), 'EX', 3600)
        .zadd(
          `${prefix}session:{${session.id}}:tokens`,
          now + 1500,
          `a:${oldAccess}`,
          now + 1800,
          `r:${oldRefresh}`,
        )
        .expire(`${prefix}session:{${session.id}}:tokens`, 1800)
        .zadd(`${prefix}user:{carol}:sessions`, session.expiresAt, session.id)
        .expire(`${prefix}user:{carol}:sessions`, 3600)
        .zadd(`${prefix}sessions`, session.expiresAt, session.id)
        .expire(`${prefix}sessions`, 3600)
        .set(`${prefix}at:{${oldAccess}}`, JSON.stringify(legacyAccess), 'EX', 1500)
        .set(`${prefix}rt:{${oldRefresh}}`, JSON.stringify(legacyRefresh), 'EX', 1800)
        .exec();

      expect(await store.getAccessToken(oldAccess)).toEqual(accessRecord(session, now));
      expect(await store.getSession(session.id)).toEqual(session);
      expect(await store.listSessions({ username: 'carol' })).toEqual([session]);
      expect(await store.countSessions()).toBe(1);
      expect(await store.peekRefreshToken(oldRefresh)).toEqual({
        status: 'fresh',
        record: refreshRecord(session, now),
      });

      // After the upgrade the session gets a token in the new layout, and an updated record.
      await store.putAccessToken(newAccess, accessRecord(session, now));
      await store.putSession({ ...session, description: 'renewed' });
      expect(await listedTokens(session.id)).toHaveLength(1);

      expect(await store.revokeUser('carol')).toBe(1);
      for (const hash of [oldAccess, newAccess]) expect(await store.getAccessToken(hash)).toBeUndefined();
      expect(await store.useRefreshToken(oldRefresh)).toEqual({ status: 'unknown' });
      expect(
        await admin.exists(`${prefix}session:{${session.id}}`, `${prefix}session:{${session.id}}:tokens`),
      ).toBe(0);
      expect(await store.countSessions()).toBe(0);
    } finally {
      await store.close();
    }
  });
});
