import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startRedisNode } from './redis-process.js';

const run = promisify(execFile);

/** Polls `check` every 50 ms until it returns true (a throw counts as false); fails after `ms`. */
export async function until(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopAll(nodes) {
  await Promise.all(nodes.map((n) => n.stop()));
}

/** The master group name the benchmark's sentinels monitor. */
export const SENTINEL_MASTER_NAME = 'kob-bench';

/**
 * A real Sentinel deployment on loopback: a primary, a replica of it and three `redis-server
 * --sentinel` processes (quorum 2, the shape of a production install) that declare the primary down
 * after `downAfterMs`. Both data nodes sync disklessly without delay (either may be the primary after
 * a failover). Resolves once the replica acknowledges writes and the three sentinels know each other
 * and the replica (`SENTINEL CKQUORUM`). `primary()`/`replica()` are the data nodes as the sentinels
 * name them now.
 */
export async function startSentinelGroup({ downAfterMs = 1000 } = {}) {
  const started = [];
  try {
    const nodeArgs = ['--repl-diskless-sync-delay', '0'];
    const first = await startRedisNode({ args: nodeArgs });
    started.push(first);
    const second = await startRedisNode({
      args: [...nodeArgs, '--replicaof', '127.0.0.1', String(first.port)],
    });
    started.push(second);
    const nodes = [first, second];
    const sentinels = [];
    for (let i = 0; i < 3; i++) {
      // Sentinel mode needs its (writable) config file first on the command line: one per sentinel.
      const sentinel = await startRedisNode({
        portArgs: (port, dir) => {
          const conf = join(dir, 'sentinel.conf');
          writeFileSync(
            conf,
            [
              `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${first.port} 2`,
              `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfterMs}`,
              `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${3 * downAfterMs}`,
              '',
            ].join('\n'),
          );
          return [conf, '--sentinel', '--port', String(port)];
        },
      });
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    async function primary() {
      const [, port] = await sentinels[0].call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME);
      const node = nodes.find((n) => n.port === Number(port));
      if (!node) throw new Error(`the sentinels name an unknown primary (port ${port})`);
      return node;
    }
    // With diskless sync the primary streams writes to a new replica only after its first ACK (once a
    // second), although both sides already say `online`: wait until a write is acknowledged.
    await until('the replica to acknowledge a write', async () => {
      await first.call('SET', 'kob-bench-warm-up', '1', 'EX', '60');
      return (await first.call('WAIT', '1', '1000')) === 1;
    });
    await until('three sentinels that agree on a quorum', async () => {
      const views = await Promise.all(
        sentinels.map((s) => s.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)),
      );
      if (!views.every((v) => JSON.stringify(v).includes(String(second.port)))) return false;
      return String(await sentinels[0].call('SENTINEL', 'CKQUORUM', SENTINEL_MASTER_NAME)).startsWith('OK 3');
    });
    return {
      nodes,
      sentinels,
      name: SENTINEL_MASTER_NAME,
      seeds: sentinels.map((s) => `127.0.0.1:${s.port}`),
      primary,
      async replica() {
        const current = await primary();
        return current === first ? second : first;
      },
      close: () => stopAll(started),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

/** `CLUSTER NODES` of `node`, one object per line: id, port, flags, master id, slot ranges. */
export async function clusterNodes(node) {
  const text = String(await node.call('CLUSTER', 'NODES'));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.split(' ');
      return {
        id,
        port: Number(address.split(':')[1].split('@')[0]),
        flags: flags.split(','),
        master: master === '-' ? undefined : master,
        slots: slots.filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number)),
      };
    });
}

/** Whether a `clusterNodes` entry serves hash slot `slot`. */
export function servesSlot(node, slot) {
  return node.slots.some(([from, to = from]) => slot >= from && slot <= to);
}

/**
 * A real Redis Cluster on loopback: three masters (and, with `replicas: 1`, a replica each), node
 * timeout `nodeTimeoutMs`, joined with `redis-cli --cluster create`. Resolves once every node says
 * `cluster_state:ok` and, with replicas, every replica is in sync and listed in `CLUSTER SLOTS` (what
 * clients read to learn a master's replicas).
 */
export async function startRedisCluster({ replicas = 1, nodeTimeoutMs = 2000 } = {}) {
  const nodes = [];
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      // A free bus port: the default (port + 10000) may be taken.
      args.push('--cluster-port', String(await freePort()), '--cluster-node-timeout', String(nodeTimeoutMs));
      nodes.push(await startRedisNode({ args }));
    }
    const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...seeds, '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    await until('the cluster to be up on every node', async () => {
      const infos = await Promise.all(nodes.map((n) => n.call('CLUSTER', 'INFO')));
      if (!infos.every((info) => String(info).includes('cluster_state:ok'))) return false;
      if (replicas === 0) return true;
      const views = await Promise.all(nodes.map(clusterNodes));
      if (!views.every((view) => view.filter((n) => n.flags.includes('slave')).length === 3)) return false;
      // CLUSTER SLOTS leaves out a replica whose replication offset is still 0: a write on each master moves it.
      for (const n of views[0]) if (n.flags.includes('master')) await nodeAt(n.port).call('FLUSHALL');
      const slots = await Promise.all(nodes.map((n) => n.call('CLUSTER', 'SLOTS')));
      return slots.every((ranges) => ranges.length === 3 && ranges.every((r) => r.length === 4));
    });
    function nodeAt(port) {
      return nodes.find((n) => n.port === port);
    }
    return { nodes, seeds, nodeAt, close: () => stopAll(nodes) };
  } catch (err) {
    await stopAll(nodes);
    throw err;
  }
}
