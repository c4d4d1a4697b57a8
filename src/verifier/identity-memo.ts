import type { MappingOutcome, MappingSet } from '../mapping/index.js';
import type { SessionIdentity } from '../store/index.js';

/** Entries kept per rule set; a full memo starts over (cheaper than LRU bookkeeping per review). */
const CAPACITY = 10_000;

/**
 * Memoises the mapped identity: the mapping is a pure function of the stored identity snapshot and
 * the compiled rules, and the same session is reviewed again and again (every kubectl command after
 * the apiserver's cache expires, every token of the session). Keyed by the rule set (a new MappingSet
 * is a new memo) and the identity itself, serialised: a snapshot whose claims changed (a refresh)
 * is a different key, never a stale answer. Evaluation errors are not memoised.
 */
export class IdentityMemo {
  private readonly bySet = new WeakMap<MappingSet, Map<string, MappingOutcome>>();

  map(identity: SessionIdentity, mapping: MappingSet, compute: () => MappingOutcome): MappingOutcome {
    let memo = this.bySet.get(mapping);
    if (!memo) {
      memo = new Map();
      this.bySet.set(mapping, memo);
    }
    const key = JSON.stringify(identity);
    const known = memo.get(key);
    if (known) return known;
    const outcome = compute();
    if (!outcome.ok && outcome.evaluationError) return outcome;
    if (memo.size >= CAPACITY) memo.clear();
    memo.set(key, outcome);
    return outcome;
  }
}
