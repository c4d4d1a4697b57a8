export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type {
  AccessTokenRecord,
  EphemeralNamespace,
  RefreshTokenRecord,
  RefreshUse,
  SessionIdentity,
  SessionRecord,
  TokenStore,
} from './types.js';
