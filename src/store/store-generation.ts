import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { Cluster } from './ioredis.js';
import type { RedisClient } from './redis-client.js';
import type { RedisKeys } from './redis-keys.js';
import { shardTags } from './shard-tags.js';
import type { StoreDataLoss } from './store-resilience.js';

/** Markers live this long past the last check of any process (nothing in Redis lives forever). */
const MARKER_TTL_SECONDS = 7 * 86_400;
export interface StoreGenerationOptions {
  redis: RedisClient;
  keys: RedisKeys;
  clock: Clock;
  logger?: Logger;
  /** Called once per loss noticed (the composition root counts it). */
  onDataLoss?: (loss: StoreDataLoss) => void;
}

/**
 * The store generation marker: a random id written (SET NX) the first time a store is used, one per
 * Cluster shard. A Redis that restarts without persistence, or a Cluster master that comes back
 * without its data, has no marker any more (or, once another process re-created it, a different
 * one): the data is gone, every token with it. That is logged loudly once, counted, reported on
 * /readyz and the marker re-created. Without the marker an emptied store would look like a mass
 * revocation. Each check also renews the marker's TTL.
 */
export class StoreGeneration {
  private readonly known = new Map<string, string>();
  private loss: StoreDataLoss | undefined;
  private losses = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: StoreGenerationOptions) {}

  /** The most recent loss this process noticed. */
  lastLoss(): StoreDataLoss | undefined {
    return this.loss;
  }

  /**
   * Checks (and writes, the first time) every marker. Throws when Redis cannot be asked. Calls that
   * overlap (the periodic check, a reconnect, a review's recheck) share one check: two checks racing
   * over a vanished marker would both see it gone and count one loss twice.
   */
  check(): Promise<void> {
    this.running ??= this.checkMarkers().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async checkMarkers(): Promise<void> {
    const { redis } = this.options;
    for (const [where, key] of this.markers()) {
      const seen = await redis.getex(key, 'EX', MARKER_TTL_SECONDS);
      const known = this.known.get(key);
      if (seen !== null && (known === undefined || seen === known)) {
        this.known.set(key, seen);
        continue;
      }
      let current = seen;
      if (current === null) {
        const fresh = randomUUID();
        const created = await redis.set(key, fresh, 'EX', MARKER_TTL_SECONDS, 'NX');
        current = created === 'OK' ? fresh : await redis.get(key);
      }
      if (current !== null) this.known.set(key, current);
      if (known !== undefined) this.noticeLoss(where);
    }
  }

  private noticeLoss(where: string): void {
    this.losses += 1;
    this.loss = { detectedAt: this.options.clock.now(), count: this.losses, where };
    this.options.logger?.error(
      { storeDataLoss: this.loss },
      'TOKEN STORE LOST ITS DATA: the store generation marker vanished (Redis restarted empty or a Cluster master came back without its data). Every session and token stored before is gone: users must log in again. Marker re-created. See docs/operations.md "Store data loss".',
    );
    this.options.onDataLoss?.(this.loss);
  }

  /** `[where, key]` per marker: one for a single primary, one per master on Cluster. */
  private markers(): [string, string][] {
    const { redis, keys } = this.options;
    if (!(redis instanceof Cluster)) return [['standalone', keys.generation('g')]];
    return [...shardTags(redis)].map(([owner, tag]) => [owner, keys.generation(tag)]);
  }
}
