import type { Claims, UserInfo } from '../core/identity.js';

/** What the rules made of a set of claims: an identity, or which rule refused and why. */
export type MappingOutcome =
  | { ok: true; user: UserInfo }
  | {
      ok: false;
      /**
       * Config path of the rule that refused, e.g. `mapping.claimValidationRules.0`,
       * `issuer.upstreams.1.mapping.claimMappings.username.expression`; `system-guard` (SYSTEM_GUARD_RULE) when
       * the built-in system: guard refused; `user.username` / `user.extra` for a malformed minted identity.
       */
      rule: string;
      /** Human reason, safe to log and to show the admin (never contains a token). */
      reason: string;
      /** True when a CEL expression failed to evaluate (as opposed to a rule saying no). */
      evaluationError?: boolean;
    };

/** Compiled rules for one upstream (or the top-level default). Pure and synchronous: safe on the hot path. */
export interface ClaimMapper {
  /** claims → user: claimValidationRules, claimMappings, groupMap, userValidationRules, system: guard. */
  mapClaims(claims: Claims): MappingOutcome;
  /**
   * For identities an admin minted as written: only userValidationRules and the system: guard
   * (skipped for `system:` values when `allowSystem` — the admin said so explicitly).
   */
  checkUser(user: UserInfo, options?: { allowSystem?: boolean }): MappingOutcome;
}

/** Every compiled rule set: the default and one per upstream that has its own. */
export interface MappingSet {
  /** The mapper for an upstream name; falls back to the top-level rules. */
  forUpstream(name?: string): ClaimMapper;
}
