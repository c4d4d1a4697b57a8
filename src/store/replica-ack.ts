import { Cluster, type Redis } from 'ioredis';
import { StoreUnavailableError } from '../core/errors.js';
import type { RedisClient } from './redis-client.js';

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

/**
 * Waits for at least one replica to acknowledge the writes made so far on each primary involved
 * (`WAIT 1 timeout`; WAIT covers every earlier write of the connection, and the store has one
 * connection per node). When replicas exist:
 * - Sentinel: always (a Sentinel primary without a reachable replica is exactly the risky case);
 * - Cluster: per shard, for every master the slot map lists replicas for;
 * - standalone: when the primary lists connected replicas (`ROLE`; an ACL without ROLE: never).
 * Throws RevocationUnconfirmedError when a primary with replicas got no acknowledgement.
 */
export async function confirmOnReplicas(
  client: RedisClient,
  topology: ReplicaTopology,
  timeoutMs: number,
): Promise<void> {
  if (timeoutMs <= 0) return;
  if (client instanceof Cluster) {
    const masters = mastersWithReplicas(client);
    const acks = await Promise.all(masters.map((node) => node.wait(1, timeoutMs)));
    const missing = acks.filter((n) => n < 1).length;
    if (missing > 0) {
      throw new RevocationUnconfirmedError(
        `revocation not acknowledged by a replica on ${missing} of ${masters.length} shards within ${timeoutMs} ms`,
      );
    }
    return;
  }
  if (topology === 'standalone' && !(await hasReplicas(client))) return;
  const acks = await client.wait(1, timeoutMs);
  if (acks < 1) {
    throw new RevocationUnconfirmedError(`revocation not acknowledged by a replica within ${timeoutMs} ms`);
  }
}

/** A standalone primary lists its connected replicas in ROLE; an ACL that refuses ROLE means "none known". */
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

/** Masters the slot map lists at least one replica for (a slot entry is [master, ...replicas]). */
function mastersWithReplicas(cluster: Cluster): Redis[] {
  const keys = new Set<string>();
  for (const owners of cluster.slots) if (owners && owners.length > 1) keys.add(owners[0] as string);
  return cluster.nodes('master').filter((node) => keys.has(`${node.options.host}:${node.options.port}`));
}
