import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRedis, type TestRedis } from './redis-server.js';
import { until } from './until.js';

/** The master group name the test sentinel monitors. */
export const SENTINEL_MASTER_NAME = 'kob-primary';

/** A real Sentinel setup of the test's own: two data nodes (primary and replica) and one sentinel. */
export interface TestRedisSentinel {
  /** The two data nodes; which one is the primary changes with every failover. */
  nodes: [TestRedis, TestRedis];
  sentinel: TestRedis;
  /** `127.0.0.1:PORT` of the sentinel: the list for `store.redis.sentinel.nodes`. */
  seeds: string[];
  /** The data node the sentinel currently names as the primary. */
  primary(): Promise<TestRedis>;
  /** The other data node. */
  replica(): Promise<TestRedis>;
  /** Waits until the primary streams its writes to the replica (the initial sync is done). */
  replicaInSync(): Promise<void>;
  /** Stops every process and removes their folders. */
  close(): Promise<void>;
}

export interface TestRedisSentinelOptions {
  /** `requirepass` of the sentinel itself. */
  sentinelPassword?: string;
}

/**
 * Starts a primary, a replica of it (`--replicaof`) and `redis-server --sentinel` monitoring the
 * primary with quorum 1 and short timeouts (down after 500 ms), so a stopped primary is replaced by
 * the replica within a couple of seconds. Resolves once the replica is in sync and the sentinel knows it.
 */
export async function startTestRedisSentinel(
  options: TestRedisSentinelOptions = {},
): Promise<TestRedisSentinel> {
  const started: TestRedis[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kob-sentinel-'));
  // Diskless sync starts at once instead of after Redis' default 5 s of waiting for more replicas;
  // both nodes get it because either may be the primary after a failover.
  const nodeArgs = ['--repl-diskless-sync-delay', '0'];
  try {
    const first = await startTestRedis({ args: nodeArgs });
    started.push(first);
    const second = await startTestRedis({
      args: [...nodeArgs, '--replicaof', '127.0.0.1', String(first.port)],
    });
    started.push(second);
    const nodes: [TestRedis, TestRedis] = [first, second];
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        'sentinel resolve-hostnames yes',
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${first.port} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 500`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 2000`,
        ...(options.sentinelPassword ? [`requirepass ${options.sentinelPassword}`] : []),
        '',
      ].join('\n'),
    );
    // Sentinel mode needs its (writable) config file first on the command line.
    const sentinel = await startTestRedis({
      portArgs: (port) => [conf, '--sentinel', '--port', String(port)],
      ...(options.sentinelPassword && { auth: { password: options.sentinelPassword } }),
    });
    started.push(sentinel);

    async function primary(): Promise<TestRedis> {
      const reply = await sentinel.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME);
      const port = Number(reply.split('\r\n')[4]);
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`the sentinel names an unknown primary (port ${port})`);
      return node;
    }
    async function replica(): Promise<TestRedis> {
      const current = await primary();
      return current === first ? second : first;
    }
    async function replicaInSync(): Promise<void> {
      const current = await primary();
      // With diskless sync the primary streams writes to a new replica only after its first ACK (sent
      // once a second), although the replica already says `connected`: ask the primary.
      await until('the replica to be online', async () =>
        (await current.command('INFO', 'replication')).includes('state=online'),
      );
    }

    await replicaInSync();
    await until('the sentinel to see the replica', async () =>
      (await sentinel.command('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)).includes(String(second.port)),
    );
    return {
      nodes,
      sentinel,
      seeds: [`127.0.0.1:${sentinel.port}`],
      primary,
      replica,
      replicaInSync,
      async close() {
        await Promise.all(started.map((r) => r.close()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((r) => r.close()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
