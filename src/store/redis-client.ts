import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { RedisConfig } from '../config/index.js';
import { ConfigError } from '../core/errors.js';
import { type ChainableCommander, Cluster, Redis, type RedisOptions } from './ioredis.js';

/** A standalone or Sentinel-managed connection, or a Redis Cluster client: the store speaks to either. */
export type RedisClient = Redis | Cluster;

/**
 * The ioredis client for `store.redis`: `url` (standalone), `sentinel` or `cluster`. Created without
 * connecting (RedisConnection connects and reconnects it). Every variant fails fast: no offline
 * queue, no resending of commands that were in flight when a connection dropped, a per-command
 * timeout, and no ioredis reconnect loop of its own.
 */
export function createRedisClient(config: RedisConfig): RedisClient {
  if (config.tlsCA !== undefined && !config.url?.startsWith('rediss:')) {
    throw new ConfigError([{ path: 'store.redis.tlsCA', message: 'tlsCA needs a rediss:// URL' }]);
  }
  if (config.cluster) return createClusterClient(config, config.cluster.nodes);
  if (config.sentinel) {
    const { sentinel } = config;
    return new Redis({
      ...nodeOptions(config),
      ...standaloneFailFast,
      name: sentinel.name,
      sentinels: sentinel.nodes.map(parseNode),
      ...(sentinel.username !== undefined && { sentinelUsername: sentinel.username }),
      ...(sentinel.password !== undefined && { sentinelPassword: sentinel.password }),
      // All sentinels unreachable → the connect attempt fails now; RedisConnection retries later.
      sentinelRetryStrategy: () => null,
      sentinelCommandTimeout: config.commandTimeout * 1000,
      // Subscribes to the sentinels' +switch-master: on a failover the connection to the old primary
      // is dropped and the next attempt asks the sentinels again, instead of writing to a demoted
      // primary (READONLY) until it dies.
      failoverDetector: true,
    });
  }
  return new Redis({
    ...urlOptions(config, config.url ?? ''),
    ...nodeOptions(config),
    ...standaloneFailFast,
  });
}

/**
 * Connects the client. A Cluster is "ready" once it knows the slot map, but its connections to the
 * masters open lazily on first use, and with the offline queue off a command that reaches a node
 * while its connection is still opening fails at once (several commands of one step sent together
 * would race it). So the masters are connected here too, before the first command.
 */
export async function connectClient(client: RedisClient): Promise<void> {
  await client.connect();
  if (!(client instanceof Cluster)) return;
  await Promise.all(
    client.nodes('master').map((node) => {
      if (node.status === 'ready') return undefined;
      return node.status === 'wait' ? node.connect() : once(node, 'ready');
    }),
  );
}

/** Standalone and Sentinel: ioredis' offline queue and retry loop are off; RedisConnection owns both. */
const standaloneFailFast = {
  lazyConnect: true,
  enableOfflineQueue: false,
  retryStrategy: () => null,
} as const satisfies RedisOptions;

/** Options every connection to a data node gets: credentials, timeouts, no replays. */
function nodeOptions(config: RedisConfig) {
  return {
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    connectTimeout: config.connectTimeout * 1000,
    commandTimeout: config.commandTimeout * 1000,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The ready check (INFO) would hold requests while Redis loads its data after a restart, and
    // needs INFO in the ACL; without it a command during loading fails fast with LOADING instead.
    enableReadyCheck: false,
    connectionName: 'kube-oidc-bridge',
  } satisfies RedisOptions;
}

/**
 * Redis Cluster. The cluster-level offline queue and retry loop are off like for a single node; the
 * per-node connections ioredis creates inherit the node options. ioredis still follows MOVED/ASK
 * redirections (the command did not run; that is how a client finds a slot's new owner) and retries
 * on CLUSTERDOWN/TRYAGAIN replies (also not run), but a command whose connection dropped is not sent
 * again (`retryDelayOnFailover: 0`): it may have run, and a replayed GETDEL or INCR would be wrong.
 */
function createClusterClient(config: RedisConfig, nodes: string[]): Cluster {
  return new Cluster(nodes.map(parseNode), {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: () => null,
    retryDelayOnFailover: 0,
    slotsRefreshTimeout: config.commandTimeout * 1000,
    // CLUSTER INFO before the first command: a cluster whose state is `fail` is not "ready".
    enableReadyCheck: true,
    redisOptions: nodeOptions(config),
  });
}

/** URL parts of a standalone `redis://` or `rediss://` connection. */
function urlOptions(config: RedisConfig, raw: string): RedisOptions {
  const url = new URL(raw);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new ConfigError([{ path: 'store.redis.url', message: 'the database must be a number' }]);
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db,
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' && {
      tls: { ...(config.tlsCA !== undefined && { ca: readFileSync(config.tlsCA) }) },
    }),
  };
}

/** `host:port` or `[v6]:port` (validated by the schema) → ioredis' node address. */
function parseNode(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(node.slice(at + 1)) };
}

/**
 * Runs a pipeline or transaction and returns its replies, throwing the first command error. Only for
 * batches within one hash tag: a Cluster client refuses a pipeline that spans nodes.
 */
export async function execAll(batch: ChainableCommander): Promise<unknown[]> {
  const results = await batch.exec();
  if (results === null) throw new Error('transaction aborted');
  return results.map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}
