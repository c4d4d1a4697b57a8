import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { startTestRedis, type TestRedis } from './redis-server.js';
import { until } from './until.js';

const run = promisify(execFile);

/** A real three-master Redis Cluster of the test's own on free loopback ports. */
export interface TestRedisCluster {
  /** The masters, each a TestRedis (stop/start/command work per node). */
  nodes: TestRedis[];
  /** `127.0.0.1:PORT` of every master: the seed list for `store.redis.cluster.nodes`. */
  seeds: string[];
  /** Stops every node and removes their folders. */
  close(): Promise<void>;
}

/**
 * Starts three `redis-server --cluster-enabled yes` nodes (each with its own folder, cluster
 * config file and a free bus port), joins them with `redis-cli --cluster create` (no replicas), and
 * waits until every node reports `cluster_state:ok`.
 */
export async function startTestRedisCluster(): Promise<TestRedisCluster> {
  const nodes: TestRedis[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const busPort = await freePort();
      nodes.push(
        await startTestRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-port',
            String(busPort),
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...seeds, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 15_000,
    });
    // Every node must agree the cluster is up (all slots covered) before a client is pointed at it.
    await until(
      'cluster_state:ok on every node',
      async () => {
        const infos = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO')));
        return infos.every((info) => info.includes('cluster_state:ok'));
      },
      15_000,
    );
    return {
      nodes,
      seeds,
      async close() {
        await Promise.all(nodes.map((n) => n.close()));
      },
    };
  } catch (err) {
    await Promise.all(nodes.map((n) => n.close()));
    throw err;
  }
}
