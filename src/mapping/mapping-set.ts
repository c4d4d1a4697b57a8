import type { Config } from '../config/index.js';
import { ConfigError, type ConfigProblem } from '../core/errors.js';
import { createCelEnvironments } from './cel-environment.js';
import { RuleMapper } from './claim-mapper.js';
import { compileRules, mapsClaims } from './compile-rules.js';
import type { MappingSet } from './types.js';

/** The compiled rules of a whole configuration: the top-level set and each upstream's own. */
export class CompiledMappingSet implements MappingSet {
  constructor(
    private readonly defaultMapper: RuleMapper,
    private readonly upstreamMappers: ReadonlyMap<string, RuleMapper>,
    /** Every configured upstream name, with or without its own rules. */
    readonly upstreamNames: readonly string[],
  ) {}

  forUpstream(name?: string): RuleMapper {
    return (name === undefined ? undefined : this.upstreamMappers.get(name)) ?? this.defaultMapper;
  }
}

/**
 * Compiles `config.mapping`, every `config.issuer.upstreams[i].mapping` and every
 * `config.upstreamMappings.<name>` (the same per-upstream rules, for a proxy or verifier that runs
 * without the issuer) once, at start. Throws a ConfigError listing every bad rule by its path
 * (`mapping.claimMappings.username.expression: …`, `issuer.upstreams.0.mapping.userValidationRules.1.expression: …`,
 * `upstreamMappings.corp.claimMappings.groups.expression: …`), so a bad rule stops start-up.
 */
export function compileMappingSet(config: Config): CompiledMappingSet {
  const envs = createCelEnvironments();
  const problems: ConfigProblem[] = [];
  const defaultMapper = new RuleMapper(compileRules(config.mapping, 'mapping', envs, problems));
  const upstreamMappers = new Map<string, RuleMapper>();
  const upstreams = config.issuer?.upstreams ?? [];
  const separate = config.upstreamMappings ?? {};
  upstreams.forEach((upstream, i) => {
    const path = `issuer.upstreams.${i}.mapping`;
    if (upstream.mapping) {
      upstreamMappers.set(
        upstream.name,
        new RuleMapper(compileRules(upstream.mapping, path, envs, problems)),
      );
    } else if (!separate[upstream.name] && !mapsClaims(config.mapping)) {
      problems.push({
        path,
        message: 'required: this upstream has no rules of its own and the top-level mapping maps no claims',
      });
    }
  });
  for (const [name, rules] of Object.entries(separate)) {
    const path = `upstreamMappings.${name}`;
    if (upstreamMappers.has(name)) {
      const i = upstreams.findIndex((u) => u.name === name);
      problems.push({ path, message: `upstream ${name} already has rules at issuer.upstreams.${i}.mapping` });
    } else if (config.issuer && !upstreams.some((u) => u.name === name)) {
      problems.push({ path, message: `no upstream ${name} in issuer.upstreams` });
    } else {
      upstreamMappers.set(name, new RuleMapper(compileRules(rules, path, envs, problems)));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const names = new Set([...upstreams.map((u) => u.name), ...Object.keys(separate)]);
  return new CompiledMappingSet(defaultMapper, upstreamMappers, [...names]);
}
