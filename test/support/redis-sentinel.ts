import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRedis, type TestRedis } from './redis-server.js';
import { until } from './until.js';

/** The master group name the test sentinel monitors. */
export const SENTINEL_MASTER_NAME = 'kob-primary';

/** A real Sentinel setup of the test's own: a primary, a replica and one sentinel, on free ports. */
export interface TestRedisSentinel {
  primary: TestRedis;
  replica: TestRedis;
  sentinel: TestRedis;
  /** `127.0.0.1:PORT` of the sentinel: the list for `store.redis.sentinel.nodes`. */
  seeds: string[];
  /** The port the sentinel currently names as the primary. */
  primaryPort(): Promise<number>;
  /** Stops every process and removes their folders. */
  close(): Promise<void>;
}

/**
 * Starts a primary, a replica of it (`--replicaof`) and `redis-server --sentinel` monitoring the
 * primary with quorum 1 and short timeouts (down after 500 ms), so a stopped primary is replaced by
 * the replica within a couple of seconds. Resolves once the sentinel knows the replica.
 */
export async function startTestRedisSentinel(): Promise<TestRedisSentinel> {
  const started: TestRedis[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kob-sentinel-'));
  try {
    // Diskless sync starts at once instead of after Redis' default 5 s of waiting for more replicas.
    const primary = await startTestRedis({ args: ['--repl-diskless-sync-delay', '0'] });
    started.push(primary);
    const replica = await startTestRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    started.push(replica);
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        'sentinel resolve-hostnames yes',
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primary.port} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 500`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 2000`,
        '',
      ].join('\n'),
    );
    // Sentinel mode needs its (writable) config file first on the command line.
    const sentinel = await startTestRedis({
      portArgs: (port) => [conf, '--sentinel', '--port', String(port)],
    });
    started.push(sentinel);
    // ROLE on a replica: slave, host, port, state, offset; `connected` once the initial sync is done.
    await until('the replica to finish its initial sync', async () =>
      (await replica.command('ROLE')).includes('connected'),
    );
    await until('the sentinel to see the replica', async () =>
      (await sentinel.command('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)).includes(String(replica.port)),
    );
    return {
      primary,
      replica,
      sentinel,
      seeds: [`127.0.0.1:${sentinel.port}`],
      async primaryPort() {
        const reply = await sentinel.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME);
        return Number(reply.split('\r\n')[4]);
      },
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
