import type { StoreConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { TokenStore } from './types.js';

/** The store the configuration asks for: `store.redis` or `store.memory` (the schema allows exactly one). */
export function createStore(config: StoreConfig, deps: { clock: Clock; logger?: Logger }): TokenStore {
  if (config.redis) return createRedisStore({ config: config.redis, clock: deps.clock, logger: deps.logger });
  return createMemoryStore({ clock: deps.clock });
}
