import type { Claims } from '../core/identity.js';
import type { CompiledMappingSet } from './mapping-set.js';
import type { MappingOutcome } from './types.js';

/** What `mapping explain` reports: which rule set ran, and what it made of the claims. */
export interface MappingExplanation {
  /** Config path of the rule set used (`mapping` or `issuer.upstreams.N.mapping`). */
  rules: string;
  outcome: MappingOutcome;
}

/**
 * The admin's dry run: the exact code path a review takes for these claims (upstream rules, else the
 * top-level ones). Throws a RangeError for an upstream name the configuration does not have, because
 * silently falling back to the default rules would explain the wrong thing.
 */
export function explainMapping(
  set: CompiledMappingSet,
  claims: Claims,
  upstream?: string,
): MappingExplanation {
  if (upstream !== undefined && !set.upstreamNames.includes(upstream)) {
    const known = set.upstreamNames.length > 0 ? set.upstreamNames.join(', ') : 'none configured';
    throw new RangeError(`unknown upstream "${upstream}" (known: ${known})`);
  }
  const mapper = set.forUpstream(upstream);
  return { rules: mapper.rulesPath, outcome: mapper.mapClaims(claims) };
}
