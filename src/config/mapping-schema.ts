import { type input, z } from './zod.js';

/**
 * Claim mapping, named and shaped like Kubernetes' AuthenticationConfiguration
 * (apiserver.config.k8s.io/v1 `jwt[].claimMappings`, `claimValidationRules`, `userValidationRules`)
 * so snippets from the Kubernetes docs work here, plus `groupMap` (static IdP group → Kubernetes
 * groups, the only way besides an explicit `allowSystem` to produce `system:` identities).
 *
 * This schema checks shapes only. The rules between fields (claim xor expression, prefix required with
 * claim, extra key format, CEL that compiles and has the right type…) are checked by compileMappingSet
 * (src/mapping), which reports every problem with its path; `config check` and start-up run both.
 * docs/mapping.md documents every key.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#using-authentication-configuration
 */
const claimOrExpression = z.strictObject({
  /** Claim to read; with `prefix` (required for username and groups, `""` for none). */
  claim: z.string().min(1).optional(),
  prefix: z.string().optional(),
  /** CEL over `claims`; excludes `claim` and `prefix`. */
  expression: z.string().min(1).optional(),
});

export const mappingSchema = z.strictObject({
  /** Checked before mapping: `{claim, requiredValue}` or `{expression (CEL bool over claims), message}`. */
  claimValidationRules: z
    .array(
      z.strictObject({
        claim: z.string().min(1).optional(),
        requiredValue: z.string().optional(),
        expression: z.string().min(1).optional(),
        message: z.string().optional(),
      }),
    )
    .default([]),
  claimMappings: z
    .strictObject({
      /** Required whenever the rule set maps claims at all. */
      username: claimOrExpression.optional(),
      groups: claimOrExpression.optional(),
      /** `claim` or `expression`; no prefix. */
      uid: claimOrExpression.optional(),
      /** `key`: lowercase domain-prefixed path, unique, not under k8s.io / kubernetes.io. */
      extra: z
        .array(z.strictObject({ key: z.string().min(1), valueExpression: z.string().min(1) }))
        .default([]),
    })
    .default({ extra: [] }),
  /** Checked last: CEL bool over `user` (username, uid, groups, extra). */
  userValidationRules: z
    .array(z.strictObject({ expression: z.string().min(1), message: z.string().optional() }))
    .default([]),
  /** Raw IdP group value → Kubernetes groups added verbatim (no prefix, exempt from the system: guard). */
  groupMap: z.record(z.string(), z.array(z.string().min(1))).default({}),
  /** Claim whose values `groupMap` matches; defaults to `claimMappings.groups.claim`, else `groups`. */
  groupMapClaim: z.string().min(1).optional(),
});

export type MappingConfigInput = input<typeof mappingSchema>;
