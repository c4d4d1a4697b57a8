import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/config/index.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createRedisStore } from '../../src/store/index.js';
import { RevocationUnconfirmedError } from '../../src/store/replica-ack.js';
import { startTestRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import {
  SENTINEL_MASTER_NAME,
  startTestRedisSentinel,
  type TestRedisSentinel,
} from '../support/redis-sentinel.js';
import { until } from '../support/until.js';
import { accessRecord, sessionRecord, tokenHash } from './store-fixtures.js';

/**
 * Revocations across a Sentinel failover during replication lag: a replica that has not received the
 * revocations is promoted. Before the journal and the replica acknowledgement, every revoked token
 * was accepted again afterwards.
 */

const TOKENS = 100;

/**
 * A diskless-synced replica gets the write stream only after its first ACK (once a second), although
 * both sides already say `online`: wait until a write is acknowledged, as in a long-running setup.
 */
async function replicationFlowing(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    await until('a write to be acknowledged by the replica', async () => {
      await client.set('warm-up', '1');
      return (await client.wait(1, 1000)) === 1;
    });
  } finally {
    client.disconnect();
  }
}

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

describe('Sentinel failover with replication lag', () => {
  let sentinel: TestRedisSentinel;

  function config(keyPrefix: string): RedisConfig {
    return {
      sentinel: { name: SENTINEL_MASTER_NAME, nodes: sentinel.seeds },
      keyPrefix,
      connectTimeout: 1,
      commandTimeout: 1,
      replicaAckTimeoutMs: 300,
    };
  }

  beforeAll(async () => {
    sentinel = await startTestRedisSentinel();
  });
  afterAll(async () => {
    for (const node of sentinel.nodes) await node.signal('SIGCONT');
    await sentinel.close();
  });

  it('with the replica in sync, a revocation is acknowledged and resolves', async () => {
    await sentinel.replicaInSync();
    await replicationFlowing((await sentinel.primary()).port);
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({ config: config('sync:'), clock });
    try {
      const session = sessionRecord(clock.now());
      await store.putSession(session);
      await expect(store.revokeSession(session.id)).resolves.toBe(true);
      await expect(store.revokeUser('nobody')).resolves.toBe(0);
    } finally {
      await store.close();
    }
  });

  it('0 of 100 revoked tokens are accepted after the lagging replica is promoted', async () => {
    const clock = new ManualClock(systemClock.now());
    const issuerLog = captureLog();
    // The issuer revokes; a second process (the verifier) only reads.
    const issuer = createRedisStore({ config: config('lag:'), clock, logger: issuerLog.logger });
    const verifier = createRedisStore({ config: config('lag:'), clock });
    const primary = await sentinel.primary();
    const replica = await sentinel.replica();
    try {
      const now = clock.now();
      const hashes: string[] = [];
      const sessions = Array.from({ length: TOKENS }, () => sessionRecord(now));
      for (const session of sessions) {
        await issuer.putSession(session);
        const hash = tokenHash('at');
        await issuer.putAccessToken(hash, accessRecord(session, now));
        hashes.push(hash);
      }
      const lastKey = `lag:at:{${hashes.at(-1)}}`;
      await until('the replica to have every token', async () =>
        (await replica.command('EXISTS', lastKey)).startsWith(':1'),
      );

      // Replication lag: the replica is frozen and its link cut, so nothing more reaches it.
      await replica.signal('SIGSTOP');
      await primary.command('CLIENT', 'KILL', 'TYPE', 'replica');
      let settled = false;
      const pending = Promise.allSettled(sessions.map((s) => issuer.revokeSession(s.id))).finally(() => {
        settled = true;
      });
      // WAIT blocks the connection it is sent on: reviews must not queue behind it.
      await issuer.getAccessToken(tokenHash('at'));
      expect(settled).toBe(false);
      const revocations = await pending;
      // The caller is told: applied on the primary, acknowledged by no replica.
      for (const outcome of revocations) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        expect(reason, reason.message).toBeInstanceOf(RevocationUnconfirmedError);
      }
      expect(await primary.command('EXISTS', lastKey)).toBe(':0\r\n');

      // The primary dies; the replica, which still has every revoked token, is promoted.
      await primary.signal('SIGKILL');
      await replica.signal('SIGCONT');
      expect(await replica.command('EXISTS', lastKey)).toBe(':1\r\n');
      await until(
        'the sentinel to promote the replica',
        async () => (await sentinel.primary()) === replica,
        30_000,
      );

      // The issuer's store follows the failover and replays what it revoked.
      await until(
        'the revocations to be replayed',
        async () => issuerLog.lines.some((l) => l.msg === 'revocations replayed after a failover'),
        30_000,
      );
      const replayed = issuerLog.lines.find((l) => l.msg === 'revocations replayed after a failover');
      // `restored` counts sessions that were live again; every one was, unless a read raced the replay.
      expect(replayed).toMatchObject({ replayed: TOKENS });
      expect(replayed?.restored).toBeGreaterThan(TOKENS / 2);

      let accepted = 0;
      for (const hash of hashes) if ((await verifier.getAccessToken(hash)) !== undefined) accepted += 1;
      expect(accepted).toBe(0);
      // The journal on the new primary has them again, for any later replay.
      expect(await replica.command('XLEN', 'lag:revocations')).toBe(`:${TOKENS}\r\n`);
    } finally {
      await issuer.close();
      await verifier.close();
    }
  }, 90_000);
});

describe('Cluster with a replica per master', () => {
  let cluster: TestRedisCluster;

  beforeAll(async () => {
    cluster = await startTestRedisCluster({ replicas: 1 });
  }, 60_000);
  afterAll(async () => {
    for (const node of cluster.nodes) await node.signal('SIGCONT');
    await cluster.close();
  });

  it('a revocation waits for a replica on every shard; a shard whose replica lags fails it, counted', async () => {
    const clock = new ManualClock(systemClock.now());
    const store = createRedisStore({
      config: {
        cluster: { nodes: cluster.seeds },
        keyPrefix: 'shard:',
        connectTimeout: 1,
        commandTimeout: 1,
        replicaAckTimeoutMs: 300,
      },
      clock,
    });
    try {
      // The first acknowledgement after a fresh sync can take a replica's first ACK (once a second).
      await until('every shard to acknowledge', async () => (await store.revokeSession('warm-up')) === false);
      const session = sessionRecord(clock.now());
      await store.putSession(session);
      await expect(store.revokeSession(session.id)).resolves.toBe(true);

      // One shard lags: its replica is frozen and its link cut.
      const infos = await Promise.all(cluster.nodes.map((n) => n.command('INFO', 'replication')));
      const index = infos.findIndex((info) => info.includes('role:slave'));
      const replica = cluster.nodes[index];
      const masterPort = Number(/master_port:(\d+)/.exec(infos[index] ?? '')?.[1]);
      const master = cluster.nodes.find((n) => n.port === masterPort);
      if (!replica || !master) throw new Error('no replica found');
      await replica.signal('SIGSTOP');
      await master.command('CLIENT', 'KILL', 'TYPE', 'replica');

      const other = sessionRecord(clock.now());
      await store.putSession(other);
      await expect(store.revokeSession(other.id)).rejects.toThrow(
        /revocation not acknowledged by a replica on 1 of 3 shards within 300 ms/,
      );
      // Applied on the primary all the same.
      expect(await store.getSession(other.id)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 60_000);
});
