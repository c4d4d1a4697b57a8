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
 * Compiles `config.mapping` and every `config.issuer.upstreams[i].mapping` once, at start. Throws a
 * ConfigError listing every bad rule by its path (`mapping.claimMappings.username.expression: …`,
 * `issuer.upstreams.0.mapping.userValidationRules.1.expression: …`), so a bad rule stops start-up.
 */
export function compileMappingSet(config: Config): CompiledMappingSet {
  const envs = createCelEnvironments();
  const problems: ConfigProblem[] = [];
  const defaultMapper = new RuleMapper(compileRules(config.mapping, 'mapping', envs, problems));
  const upstreamMappers = new Map<string, RuleMapper>();
  const upstreams = config.issuer?.upstreams ?? [];
  upstreams.forEach((upstream, i) => {
    const path = `issuer.upstreams.${i}.mapping`;
    if (upstream.mapping) {
      upstreamMappers.set(
        upstream.name,
        new RuleMapper(compileRules(upstream.mapping, path, envs, problems)),
      );
    } else if (!mapsClaims(config.mapping)) {
      problems.push({
        path,
        message: 'required: this upstream has no rules of its own and the top-level mapping maps no claims',
      });
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return new CompiledMappingSet(
    defaultMapper,
    upstreamMappers,
    upstreams.map((u) => u.name),
  );
}
