import { StoreUnavailableError } from '../core/errors.js';
import { Cluster, type Redis } from './ioredis.js';
import { connectClient, type RedisClient } from './redis-client.js';
import type { RedisKeys } from './redis-keys.js';
import { shardTags } from './shard-tags.js';

/**
 * A revocation was applied on the primary (and journaled) but no replica acknowledged it in time: a
 * failover now could bring the revoked tokens back. The caller is told; the store replays the
 * revocation itself after a Sentinel failover, and `token revoke --replay-since` re-applies the journal.
 */
export class RevocationUnconfirmedError extends StoreUnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'RevocationUnconfirmedError';
  }
}

export type ReplicaTopology = 'standalone' | 'sentinel' | 'cluster';

/** The probe key lives this long; every round rewrites it. */
const PROBE_TTL_SECONDS = 60;

/**
 * Confirms that at least one replica has every write made so far on each primary involved, where
 * replicas exist:
 * - Sentinel: always (a Sentinel primary without a reachable replica is exactly the risky case);
 * - Cluster: per shard, for every master the slot map lists replicas for;
 * - standalone: when the primary lists connected replicas (`ROLE`; an ACL without ROLE: never).
 *
 * WAIT blocks the connection it is sent on, so it runs on a connection of its own, never the one
 * reviews share. WAIT counts the writes of its own connection, so each round first writes a probe
 * key there: the replication stream is ordered, a replica that acknowledged the probe has every
 * earlier write of every connection. Concurrent confirmations share rounds: one WAIT in flight, the
 * callers that arrive meanwhile join the next one (it covers their writes).
 */
export class ReplicaAck {
  private dedicated: RedisClient | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly main: RedisClient,
    private readonly topology: ReplicaTopology,
    private readonly keys: RedisKeys,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once a replica has the caller's earlier writes; throws RevocationUnconfirmedError if none does in time. */
  confirm(): Promise<void> {
    if (this.timeoutMs <= 0) return Promise.resolve();
    if (this.running === undefined) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.confirm();
      });
    return this.queued;
  }

  close(): void {
    this.dedicated?.disconnect();
  }

  private async round(): Promise<void> {
    if (this.main instanceof Cluster) return this.clusterRound(this.main);
    if (this.topology === 'standalone' && !(await hasReplicas(this.main))) return;
    const client = (await this.connection()) as Redis;
    await client.set(this.keys.ackProbe('g'), String(Date.now()), 'EX', PROBE_TTL_SECONDS);
    if ((await client.wait(1, this.timeoutMs)) < 1) {
      throw new RevocationUnconfirmedError(
        `revocation not acknowledged by a replica within ${this.timeoutMs} ms`,
      );
    }
  }

  private async clusterRound(main: Cluster): Promise<void> {
    const withReplicas = new Set<string>();
    for (const owners of main.slots) if (owners && owners.length > 1) withReplicas.add(owners[0] as string);
    if (withReplicas.size === 0) return;
    const client = (await this.connection()) as Cluster;
    const tags = shardTags(main);
    const acks = await Promise.all(
      [...withReplicas].map(async (master) => {
        const tag = tags.get(master);
        const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === master);
        if (tag === undefined || node === undefined) return 0;
        await node.set(this.keys.ackProbe(tag), String(Date.now()), 'EX', PROBE_TTL_SECONDS);
        return node.wait(1, this.timeoutMs);
      }),
    );
    const missing = acks.filter((n) => n < 1).length;
    if (missing > 0) {
      throw new RevocationUnconfirmedError(
        `revocation not acknowledged by a replica on ${missing} of ${withReplicas.size} shards within ${this.timeoutMs} ms`,
      );
    }
  }

  /** The dedicated connection (same target and options as the main one), (re)connected on demand. */
  private async connection(): Promise<RedisClient> {
    let client = this.dedicated;
    if (client === undefined || client.status === 'end' || client.status === 'close') {
      // ioredis' own reconnect loop is off (redis-client.ts): a fresh client is simplest.
      client?.disconnect();
      client = duplicate(this.main);
      this.dedicated = client;
    }
    if (client.status !== 'ready') await connectClient(client);
    return client;
  }
}

function duplicate(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

async function hasReplicas(client: Redis): Promise<boolean> {
  let role: [string, number, unknown[]?];
  try {
    role = (await client.role()) as [string, number, unknown[]?];
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOPERM')) return false;
    throw err;
  }
  return role[0] === 'master' && Array.isArray(role[2]) && role[2].length > 0;
}
