import { Environment } from '@marcbachmann/cel-js';

/** The two CEL environments of the mapping rules, built once per compile (building one is costly). */
export interface CelEnvironments {
  /** `claims` (map of string to dyn): claim mappings, extra and claimValidationRules. */
  claims: Environment;
  /** `user` (username, uid, groups, extra): userValidationRules. */
  user: Environment;
}

/**
 * Mirrors the Kubernetes authentication CEL environments (k8s.io/apiserver/pkg/authentication/cel/compile.go):
 * `claims` is `map(string, dyn)`, `user` is the typed `kubernetes.UserInfo`. Optional types are on because the
 * Kubernetes docs recommend `claims.?email_verified.orValue(true) == true`; aggregate literals may be mixed
 * (`[claims.sub, "fixed"]`) as they may in cel-go without its homogeneous-literals option.
 */
export function createCelEnvironments(): CelEnvironments {
  const base = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false })
    // From cel-go's strings extension, which Kubernetes enables and cel-js lacks.
    .registerFunction('string.replace(string, string): string', (s: string, from: string, to: string) =>
      s.replaceAll(from, to),
    );
  return {
    claims: base.clone().registerVariable('claims', 'map<string, dyn>'),
    user: base.clone().registerVariable({
      name: 'user',
      schema: {
        username: 'string',
        uid: 'string',
        groups: 'list<string>',
        extra: 'map<string, list<string>>',
      },
    }),
  };
}
