export { createStore } from './create-store.js';
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { createRedisStore, type RedisStoreOptions } from './redis-store.js';
export type {
  AccessTokenRecord,
  EphemeralNamespace,
  RefreshTokenRecord,
  RefreshUse,
  SessionIdentity,
  SessionRecord,
  TokenStore,
} from './types.js';
