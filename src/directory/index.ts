export type { UpstreamJwtVerifier } from './claim-sources.js';
export type { DirectoryFetch } from './directory-fetch.js';
export { MAX_DIRECTORY_RESPONSE_BYTES } from './directory-fetch.js';
export { MAX_DIRECTORY_GROUPS, MAX_DIRECTORY_PAGES } from './directory-paging.js';
export {
  DEFAULT_GROUP_SETTINGS,
  decodeSources,
  encodeSources,
  type GroupLookupDeps,
  type GroupLookupInput,
  type GroupLookupResult,
  type GroupSettings,
  resolveUpstreamGroups,
} from './resolve-groups.js';
export { GROUP_SOURCES_CLAIM, type GroupResolution, type GroupSource } from './types.js';
export { createUpstreamJwtVerifier } from './upstream-jwt.js';
