export { type CreateStoreDeps, createStore } from './create-store.js';
export { EXPIRED_ACCESS_TOKEN_RETENTION } from './expired-retention.js';
export {
  createMemoryStore,
  DEFAULT_MAX_EPHEMERAL_RECORDS,
  type MemoryStoreOptions,
} from './memory-store.js';
export { createRedisStore, type RedisStoreOptions } from './redis-store.js';
export { RevocationUnconfirmedError } from './replica-ack.js';
export {
  hasResilience,
  type RevocationReplay,
  type StoreDataLoss,
  type StoreResilience,
} from './store-resilience.js';
export type {
  AccessTokenRecord,
  EphemeralNamespace,
  RefreshTokenRecord,
  RefreshUse,
  SessionIdentity,
  SessionRecord,
  TokenStore,
} from './types.js';
