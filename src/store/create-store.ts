import type { StoreConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { StoreDataLoss } from './store-resilience.js';
import type { TokenStore } from './types.js';

export interface CreateStoreDeps {
  clock: Clock;
  logger?: Logger;
  /** Redis: how long revocations stay in the journal (the longest token lifetime). */
  revocationJournalTTL?: number;
  /** Redis: called once per data loss noticed. */
  onDataLoss?: (loss: StoreDataLoss) => void;
}

/** The store the configuration asks for: `store.redis` or `store.memory` (the schema allows exactly one). */
export function createStore(config: StoreConfig, deps: CreateStoreDeps): TokenStore {
  if (config.redis) return createRedisStore({ ...deps, config: config.redis });
  return createMemoryStore({ clock: deps.clock });
}
