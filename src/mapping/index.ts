export { explainMapping, type MappingExplanation } from './explain.js';
export { CompiledMappingSet, compileMappingSet } from './mapping-set.js';
export { APISERVER_RESERVED_NAMES, SYSTEM_GUARD_RULE } from './system-guard.js';
export type { ClaimMapper, MappingOutcome, MappingSet } from './types.js';
