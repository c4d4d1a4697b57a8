import type { TokenStore } from './types.js';

/** The store was found to have lost its data: its generation marker vanished or changed. */
export interface StoreDataLoss {
  /** When this process noticed (epoch seconds of the injected clock). */
  detectedAt: number;
  /** Losses this process has noticed since it started. */
  count: number;
  /** Which marker: `standalone`, or the Cluster shard (`host:port`) that came back empty. */
  where: string;
}

/** What a revocation replay did. */
export interface RevocationReplay {
  /** Journal entries (and revocations this process remembered) re-applied. */
  replayed: number;
  /** Sessions that were live again (restored by a failover) and are now revoked again. */
  restored: number;
}

/**
 * What a Redis store adds to the TokenStore contract to survive failovers and data loss. A memory
 * store lives and dies with its process and has neither.
 * @see docs/store.md
 */
export interface StoreResilience {
  /** The most recent data loss this process noticed, if any. */
  dataLoss(): StoreDataLoss | undefined;
  /**
   * Checks the generation markers now (at most every 100 ms; concurrent callers share one check) and
   * returns the most recent data loss: asked before a token the store does not know is called unknown,
   * so a master that just came back empty is not taken for a mass revocation until the next periodic
   * check. Throws StoreUnavailableError when the markers cannot be read.
   */
  confirmIntact(): Promise<StoreDataLoss | undefined>;
  /**
   * Re-applies every revocation journaled at or after `since` (epoch seconds), plus those this
   * process made itself: after a failover promoted a replica that had not received them.
   */
  replayRevocations(since: number): Promise<RevocationReplay>;
}

export function hasResilience(store: TokenStore): store is TokenStore & StoreResilience {
  const candidate = store as Partial<StoreResilience>;
  return (
    typeof candidate.dataLoss === 'function' &&
    typeof candidate.confirmIntact === 'function' &&
    typeof candidate.replayRevocations === 'function'
  );
}
