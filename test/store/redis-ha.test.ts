import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/config/index.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import { createRedisStore } from '../../src/store/index.js';
import { freePort } from '../support/free-port.js';
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
      // The generation markers (one per shard, see store-generation.ts) are not part of the step.
      written.splice(0, written.length, ...written.filter((key) => !key.startsWith('slots:generation:')));
      expect(written.sort()).toEqual(
        [
          `slots:at:{${access}}`,
          `slots:rt:{${refresh}}`,
          `slots:rt:{${refresh}}:used`,
          'slots:sessions',
          `slots:session:{${session.id}}`,
        ].sort(),
      );
      const slot = (key: string) => admin.cluster('KEYSLOT', key);
      // Revocation reads a session and the token index earlier releases kept beside it in one MULTI.
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

  it('a master restarts without its data: the loss is noticed once, its shard named, the marker re-created', async () => {
    const clock = new ManualClock(systemClock.now());
    const losses: unknown[] = [];
    const store = createRedisStore({
      config: clusterConfig('gen:'),
      clock,
      onDataLoss: (loss) => losses.push(loss),
    });
    try {
      await store.ping();
      const markers = async () => {
        const found: string[] = [];
        for (const node of cluster.nodes) {
          const reply = await node.command('KEYS', 'gen:generation:*');
          found.push(...reply.split('\r\n').filter((line) => line.startsWith('gen:')));
        }
        return found.sort();
      };
      // One marker per master.
      await until('a marker on every master', async () => (await markers()).length === 3);
      const before = await markers();
      const victim = before[0] as string;
      const owner = await ownerOf(Number(await admin.cluster('KEYSLOT', victim)));
      await owner.stop();
      await owner.start();
      await until('the store to notice the loss', async () => store.dataLoss() !== undefined, 20_000);
      expect(store.dataLoss()).toMatchObject({ count: 1, where: `127.0.0.1:${owner.port}` });
      expect(losses).toHaveLength(1);
      await until('the marker to be back', async () => (await markers()).length === 3);
    } finally {
      await store.close();
    }
  });

  it('a master back empty: the first lookup that finds nothing there can ask the markers at once (no 2 s wait)', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: clusterConfig('gen2:'), clock });
    try {
      await store.ping();
      expect(await store.confirmIntact()).toBeUndefined();
      const hash = tokenHash('empty');
      const owner = await ownerOf(Number(await admin.cluster('KEYSLOT', `gen2:at:{${hash}}`)));
      await owner.stop();
      await owner.start();
      // The first read that reaches the restarted master again finds nothing, as for a revoked token…
      await until('the restarted master to answer', async () => {
        expect(await store.getAccessToken(hash)).toBeUndefined();
        return true;
      });
      // …and the check a review makes before calling it unknown names the loss right away.
      expect(await store.confirmIntact()).toMatchObject({ count: 1, where: `127.0.0.1:${owner.port}` });
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

describe('Redis store on a real Redis Sentinel (two data nodes, one sentinel)', () => {
  let sentinel: TestRedisSentinel;

  function sentinelConfig(keyPrefix: string, password?: string): RedisConfig {
    const nodes = sentinel.seeds;
    return {
      sentinel: { name: SENTINEL_MASTER_NAME, nodes, ...(password && { password }) },
      keyPrefix,
      ...TIMEOUTS,
    };
  }

  beforeAll(async () => {
    sentinel = await startTestRedisSentinel();
  });
  afterAll(async () => {
    await sentinel.close();
  });

  it('a failover ordered through the sentinel (old primary still up): the store follows to the new primary', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: sentinelConfig('switch:'), clock });
    try {
      const before = await sentinel.primary();
      const first = sessionRecord(clock.now());
      await store.putSession(first);
      expect(await before.command('EXISTS', `switch:session:{${first.id}}`)).toBe(':1\r\n');
      const replica = await sentinel.replica();
      // Only what reached the replica survives the failover.
      await until(
        'the replica to have the session',
        async () => (await replica.command('EXISTS', `switch:session:{${first.id}}`)) === ':1\r\n',
      );

      // NOGOODSLAVE until the sentinel has talked to the replica itself, not only heard of it.
      await until(
        'the sentinel to accept a failover',
        async () =>
          (await sentinel.sentinel.command('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME)) === '+OK\r\n',
      );
      await until('the sentinel to name the other node', async () => (await sentinel.primary()) !== before);
      const after = await sentinel.primary();

      // The old primary still accepts writes until the sentinel demotes it (its next INFO round, up
      // to 10 s); the store must notice the switch itself and write to the new primary within moments.
      await until(
        'a write through the store to land on the new primary',
        async () => {
          const next = sessionRecord(clock.now());
          await store.putSession(next);
          return (await after.command('EXISTS', `switch:session:{${next.id}}`)) === ':1\r\n';
        },
        3000,
      );
      // What the sentinel would do next; done now so the next test has a replica again.
      await before.command('REPLICAOF', '127.0.0.1', String(after.port));
      expect(await store.getSession(first.id)).toEqual(first);
    } finally {
      await store.close();
    }
  });

  it('the primary stops: the sentinel promotes the replica and the same store carries on', async () => {
    await sentinel.replicaInSync();
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: sentinelConfig('ha:'), clock });
    const primary = await sentinel.primary();
    const replica = await sentinel.replica();
    try {
      const now = clock.now();
      const session = sessionRecord(now);
      const hash = tokenHash('at');
      await store.putSession(session);
      await store.putAccessToken(hash, accessRecord(session, now));
      expect(await primary.command('EXISTS', `ha:at:{${hash}}`)).toBe(':1\r\n');
      // Only what reached the replica survives the failover.
      await until(
        'the replica to have the token',
        async () => (await replica.command('EXISTS', `ha:at:{${hash}}`)) === ':1\r\n',
      );

      await primary.stop();
      await until('the sentinel to promote the replica', async () => (await sentinel.primary()) === replica);
      await until(
        'the store to reach the promoted replica',
        async () => (await store.getAccessToken(hash)) !== undefined,
      );
      expect(await store.getSession(session.id)).toEqual(session);
      const later = tokenHash('at');
      await store.putAccessToken(later, accessRecord(session, now));
      expect(await store.getAccessToken(later)).toEqual(accessRecord(session, now));
    } finally {
      await store.close();
    }
  });
});

describe('Redis store on a Redis Sentinel that requires a password', () => {
  let sentinel: TestRedisSentinel;

  beforeAll(async () => {
    sentinel = await startTestRedisSentinel({ sentinelPassword: 'sentinel-secret' });
  });
  afterAll(async () => {
    await sentinel.close();
  });

  it.each([
    ['the right password works', 'sentinel-secret', true],
    ['a wrong password is a store error', 'wrong', false],
  ])('%s', async (_name, password, works) => {
    const store = createRedisStore({
      config: {
        sentinel: { name: SENTINEL_MASTER_NAME, nodes: sentinel.seeds, password },
        keyPrefix: 'auth:',
        ...TIMEOUTS,
      },
      clock: systemClock,
    });
    try {
      if (works) await expect(store.ping()).resolves.toBeUndefined();
      else await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});

describe('Redis store: Sentinel or Cluster unreachable', () => {
  it.each([
    ['no sentinel answers', (seed: string) => ({ sentinel: { name: SENTINEL_MASTER_NAME, nodes: [seed] } })],
    ['no cluster seed node answers', (seed: string) => ({ cluster: { nodes: [seed] } })],
  ])('%s: calls fail fast with StoreUnavailableError, nothing is queued', async (_name, target) => {
    const seed = `127.0.0.1:${await freePort()}`;
    const store = createRedisStore({
      config: { ...target(seed), keyPrefix: 'down:', ...TIMEOUTS },
      clock: systemClock,
    });
    try {
      const started = Date.now();
      const results = await Promise.allSettled([store.ping(), store.getAccessToken(tokenHash('at'))]);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      }
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await store.close();
    }
  });
});
