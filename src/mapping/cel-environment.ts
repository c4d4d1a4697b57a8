import type { Environment } from '@marcbachmann/cel-js';
import type { MappingConfig } from '../config/index.js';

/** The two CEL environments of the mapping rules, built once per compile (building one is costly). */
export interface CelEnvironments {
  /** `claims` (map of string to dyn): claim mappings, extra and claimValidationRules. */
  claims: Environment;
  /** `user` (username, uid, groups, extra): userValidationRules. */
  user: Environment;
}

/** True when a rule set has a rule written in CEL (anything but `claim:` rules and groupMap). */
export function writesCel(config: MappingConfig): boolean {
  const { claimMappings: m } = config;
  return (
    [m.username, m.groups, m.uid].some((source) => source?.expression !== undefined) ||
    m.extra.length > 0 ||
    config.claimValidationRules.some((rule) => rule.expression !== undefined) ||
    config.userValidationRules.length > 0
  );
}

/**
 * Stands in for the environments of rule sets that have no CEL (writesCel is false for each): nothing
 * reads it; if something did, the mistake is in writesCel, and this says so instead of failing later.
 */
export const NO_CEL: CelEnvironments = {
  get claims(): Environment {
    return missedCel();
  },
  get user(): Environment {
    return missedCel();
  },
};

function missedCel(): never {
  throw new Error('internal: a CEL rule was compiled, but writesCel() said the rules have none');
}

/**
 * Mirrors the Kubernetes authentication CEL environments (k8s.io/apiserver/pkg/authentication/cel/compile.go):
 * `claims` is `map(string, dyn)`, `user` is the typed `kubernetes.UserInfo`. Optional types are on because the
 * Kubernetes docs recommend `claims.?email_verified.orValue(true) == true`; aggregate literals may be mixed
 * (`[claims.sub, "fixed"]`) as they may in cel-go without its homogeneous-literals option.
 *
 * The CEL library is imported here, when a rule set has CEL, not by the module: rules made only of claims
 * and group maps, common for a verifier, start without it (docs/benchmarks.md, "cold start").
 */
export async function createCelEnvironments(): Promise<CelEnvironments> {
  const { Environment } = await import('@marcbachmann/cel-js');
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
