import type { CelExpression } from './cel-expression.js';

/**
 * One rule set (`mapping` or `issuer.upstreams.N.mapping`) after compilation: plain data the mapper walks per
 * review. Every entry carries `rule`, the config path an outcome names when that entry says no.
 */
export interface CompiledRules {
  /** Config path of the rule set, e.g. `mapping`. */
  readonly path: string;
  readonly claimValidationRules: readonly ClaimValidationRule[];
  /** Undefined when the rule set maps no claims at all (only admin-minted identities can then be used). */
  readonly username: ClaimSource | undefined;
  readonly groups: ClaimSource | undefined;
  readonly uid: ClaimSource | undefined;
  readonly extra: readonly ExtraRule[];
  /** Raw IdP group value → Kubernetes groups, added verbatim. */
  readonly groupMap: ReadonlyMap<string, readonly string[]>;
  /** Claim holding the raw values `groupMap` looks up. */
  readonly groupMapClaim: string;
  /** Config path of `groupMap`, named when its claim has the wrong type. */
  readonly groupMapRule: string;
  readonly userValidationRules: readonly ValidationExpression[];
  /** False when no rule reads `claims` through CEL: the claims then need no conversion per review. */
  readonly usesClaimsExpressions: boolean;
}

/** Where username, groups or uid come from: a claim (with its prefix) or a CEL expression over `claims`. */
export type ClaimSource =
  | { readonly kind: 'claim'; readonly claim: string; readonly prefix: string; readonly rule: string }
  | { readonly kind: 'expression'; readonly expression: CelExpression; readonly rule: string };

export type ClaimValidationRule =
  | {
      readonly kind: 'requiredValue';
      readonly claim: string;
      readonly requiredValue: string;
      readonly rule: string;
    }
  | ({ readonly kind: 'expression' } & ValidationExpression);

export interface ValidationExpression {
  readonly expression: CelExpression;
  readonly message: string | undefined;
  readonly rule: string;
}

export interface ExtraRule {
  readonly key: string;
  readonly expression: CelExpression;
  readonly rule: string;
}
