import { z } from 'zod';

/**
 * Claim mapping, named and shaped like Kubernetes' AuthenticationConfiguration
 * (apiserver.config.k8s.io/v1 `jwt[].claimMappings`, `claimValidationRules`, `userValidationRules`)
 * so snippets from the Kubernetes docs work here, plus `groupMap` (static IdP group → Kubernetes
 * groups, the only way besides an explicit `allowSystem` to produce `system:` identities).
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#using-authentication-configuration
 */
const claimOrExpression = z.strictObject({
  claim: z.string().min(1).optional(),
  prefix: z.string().optional(),
  expression: z.string().min(1).optional(),
});

export const mappingSchema = z.strictObject({
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
      username: claimOrExpression.optional(),
      groups: claimOrExpression.optional(),
      uid: claimOrExpression.optional(),
      extra: z
        .array(z.strictObject({ key: z.string().min(1), valueExpression: z.string().min(1) }))
        .default([]),
    })
    .default({ extra: [] }),
  userValidationRules: z
    .array(z.strictObject({ expression: z.string().min(1), message: z.string().optional() }))
    .default([]),
  /** Raw IdP group value → Kubernetes groups added verbatim (no prefix, exempt from the system: guard). */
  groupMap: z.record(z.string(), z.array(z.string().min(1))).default({}),
  /** Claim whose values `groupMap` matches; defaults to `claimMappings.groups.claim`, else `groups`. */
  groupMapClaim: z.string().min(1).optional(),
});

export type MappingConfigInput = z.input<typeof mappingSchema>;
