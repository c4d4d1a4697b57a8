import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { startTestRedis, type TestRedis } from './redis-server.js';
import { until } from './until.js';

const run = promisify(execFile);

/** A real three-master Redis Cluster of the test's own on free loopback ports. */
export interface TestRedisCluster {
  /** Every node (masters first as created; with replicas, which is which can change), each a TestRedis. */
  nodes: TestRedis[];
  /** `127.0.0.1:PORT` of every node: the seed list for `store.redis.cluster.nodes`. */
  seeds: string[];
  /** Stops every node and removes their folders. */
  close(): Promise<void>;
}

/**
 * Starts three `redis-server --cluster-enabled yes` masters (with `replicas: 1`, six nodes: a replica
 * for each), each with its own folder, cluster config file and a free bus port, joins them with
 * `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok` (and every
 * replica is in sync).
 */
export async function startTestRedisCluster(options: { replicas?: 0 | 1 } = {}): Promise<TestRedisCluster> {
  const replicas = options.replicas ?? 0;
  const nodes: TestRedis[] = [];
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
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
    await run(
      'redis-cli',
      ['--cluster', 'create', ...seeds, '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        timeout: 15_000,
      },
    );
    // Every node must agree the cluster is up (all slots covered) before a client is pointed at it.
    await until(
      'cluster_state:ok on every node',
      async () => {
        const infos = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO')));
        if (!infos.every((info) => info.includes('cluster_state:ok'))) return false;
        if (replicas === 0) return true;
        // Every master streams to its replica (the initial sync is done).
        const roles = await Promise.all(nodes.map((n) => n.command('INFO', 'replication')));
        if (roles.filter((r) => r.includes('state=online')).length !== 3) return false;
        // …and every node names the three replicas, so CLUSTER SLOTS lists them to clients.
        const views = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'NODES')));
        if (!views.every((view) => (view.match(/slave [0-9a-f]{40} /g) ?? []).length === 3)) return false;
        // CLUSTER SLOTS (what clients read) leaves out a replica whose replication offset is still 0:
        // one write on each master (FLUSHALL on an empty node) moves it.
        await Promise.all(
          nodes.map(async (n, i) => {
            if ((roles[i] ?? '').includes('role:master')) await n.command('FLUSHALL');
          }),
        );
        const slots = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'SLOTS')));
        return slots.every((reply) => (reply.match(/\*4\r\n:/g) ?? []).length === 3);
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
