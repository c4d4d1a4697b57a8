import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/config/index.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import { createRedisStore } from '../../src/store/index.js';
import { startTestRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import {
  SENTINEL_MASTER_NAME,
  startTestRedisSentinel,
  type TestRedisSentinel,
} from '../support/redis-sentinel.js';
import { until } from '../support/until.js';
import { commandCounts, diffCounts } from './redis-command-stats.js';
import { accessRecord, refreshRecord, sessionRecord, tokenHash } from './store-fixtures.js';

const TIMEOUTS = { connectTimeout: 1, commandTimeout: 1 };

/** Sums per-command call counts over every master of a cluster. */
async function clusterCommandCounts(admin: Cluster): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (const node of admin.nodes('master')) {
    for (const [name, calls] of Object.entries(await commandCounts(node)))
      total[name] = (total[name] ?? 0) + calls;
  }
  return total;
}

describe('Redis store on a real Redis Cluster (three masters)', () => {
  let cluster: TestRedisCluster;
  let admin: Cluster;

  function clusterConfig(keyPrefix: string): RedisConfig {
    return { cluster: { nodes: cluster.seeds }, keyPrefix, ...TIMEOUTS };
  }

  beforeAll(async () => {
    cluster = await startTestRedisCluster();
    admin = new Cluster(
      cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })),
    );
  });
  afterAll(async () => {
    admin.disconnect();
    await cluster.close();
  });

  it('the keys one step touches together are in one slot (CLUSTER KEYSLOT)', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: clusterConfig('slots:'), clock });
    try {
      const now = clock.now();
      const session = sessionRecord(now, { username: 'alice' });
      const [access, refresh] = [tokenHash('at'), tokenHash('rt')];
      await store.putSession(session);
      await store.putAccessToken(access, accessRecord(session, now));
      await store.putRefreshToken(refresh, refreshRecord(session, now));
      expect((await store.useRefreshToken(refresh)).status).toBe('fresh');

      const written: string[] = [];
      for (const node of admin.nodes('master')) written.push(...(await node.keys('slots:*')));
      expect(written.sort()).toEqual(
        [
          `slots:at:{${access}}`,
          `slots:rt:{${refresh}}`,
          `slots:rt:{${refresh}}:used`,
          'slots:sessions',
          `slots:session:{${session.id}}`,
          `slots:session:{${session.id}}:tokens`,
          'slots:user:{alice}:sessions',
        ].sort(),
      );
      const slot = (key: string) => admin.cluster('KEYSLOT', key);
      expect(await slot(`slots:session:{${session.id}}:tokens`)).toBe(
        await slot(`slots:session:{${session.id}}`),
      );
      expect(await slot(`slots:rt:{${refresh}}:used`)).toBe(await slot(`slots:rt:{${refresh}}`));
    } finally {
      await store.close();
    }
  });

  it('a review is still exactly one GET, sent to the node that owns the token', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: clusterConfig('hot:'), clock });
    try {
      const session = sessionRecord(clock.now());
      const hash = tokenHash('at');
      await store.putSession(session);
      await store.putAccessToken(hash, accessRecord(session, clock.now()));
      const before = await clusterCommandCounts(admin);
      expect(await store.getAccessToken(hash)).toEqual(accessRecord(session, clock.now()));
      expect(diffCounts(before, await clusterCommandCounts(admin))).toEqual({ get: 1 });
    } finally {
      await store.close();
    }
  });

  it('a stopped master: its slots fail fast with StoreUnavailableError; restarted, the same store works again', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: clusterConfig('outage:'), clock });
    try {
      const hash = tokenHash('at');
      const slot = Number(await admin.cluster('KEYSLOT', `outage:at:{${hash}}`));
      const owner = await ownerOf(slot);
      expect(await store.getAccessToken(hash)).toBeUndefined();

      await owner.stop();
      const started = Date.now();
      await expect(store.getAccessToken(hash)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);

      await owner.start();
      await until('the restarted master to serve its slots again', async () => {
        expect(await store.getAccessToken(hash)).toBeUndefined();
        return true;
      });
    } finally {
      await store.close();
    }
  });

  /** The test node that serves a slot, read from CLUSTER SLOTS. */
  async function ownerOf(slot: number) {
    const ranges = await admin.cluster('SLOTS');
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    const node = cluster.nodes.find((n) => n.port === range?.[2]?.[1]);
    if (!node) throw new Error(`no node serves slot ${slot}`);
    return node;
  }
});

describe('Redis store on a real Redis Sentinel (primary, replica, one sentinel)', () => {
  let sentinel: TestRedisSentinel;

  beforeAll(async () => {
    sentinel = await startTestRedisSentinel();
  });
  afterAll(async () => {
    await sentinel.close();
  });

  it('finds the primary through the sentinel, and after a failover carries on with the promoted replica', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({
      config: {
        sentinel: { name: SENTINEL_MASTER_NAME, nodes: sentinel.seeds },
        keyPrefix: 'ha:',
        ...TIMEOUTS,
      },
      clock,
    });
    const primary = new Redis({ port: sentinel.primary.port, lazyConnect: true });
    try {
      const now = clock.now();
      const session = sessionRecord(now);
      const hash = tokenHash('at');
      await store.putSession(session);
      await store.putAccessToken(hash, accessRecord(session, now));
      expect(await primary.exists(`ha:at:{${hash}}`)).toBe(1);
      // Only what reached the replica survives the failover.
      expect(await primary.wait(1, 2000)).toBe(1);
      primary.disconnect();

      await sentinel.primary.stop();
      await until(
        'the sentinel to promote the replica',
        async () => (await sentinel.primaryPort()) === sentinel.replica.port,
      );
      await until(
        'the store to reach the promoted replica',
        async () => (await store.getAccessToken(hash)) !== undefined,
      );
      expect(await store.getSession(session.id)).toEqual(session);
      const later = tokenHash('at');
      await store.putAccessToken(later, accessRecord(session, now));
      expect(await store.getAccessToken(later)).toEqual(accessRecord(session, now));
    } finally {
      primary.disconnect();
      await store.close();
    }
  });
});
