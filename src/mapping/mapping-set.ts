import type { Config, MappingConfig } from '../config/index.js';
import { ConfigError, type ConfigProblem } from '../core/errors.js';
import { createCelEnvironments, NO_CEL, writesCel } from './cel-environment.js';
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
 * Asynchronous because the CEL library is loaded only when one of the rule sets has a CEL rule.
 */
export async function compileMappingSet(config: Config): Promise<CompiledMappingSet> {
  // What to compile, in the order of the file: rule sets (under their upstream name) and the problems
  // found between them. Compiled once it is known whether any rule set needs the CEL library.
  const steps: (RuleSetStep | ConfigProblem)[] = [{ rules: config.mapping, path: 'mapping' }];
  const upstreams = config.issuer?.upstreams ?? [];
  const separate = config.upstreamMappings ?? {};
  upstreams.forEach((upstream, i) => {
    const path = `issuer.upstreams.${i}.mapping`;
    if (upstream.mapping) {
      steps.push({ upstream: upstream.name, rules: upstream.mapping, path });
    } else if (!separate[upstream.name] && !mapsClaims(config.mapping)) {
      steps.push({
        path,
        message: 'required: this upstream has no rules of its own and the top-level mapping maps no claims',
      });
    }
  });
  for (const [name, rules] of Object.entries(separate)) {
    const path = `upstreamMappings.${name}`;
    const i = upstreams.findIndex((u) => u.name === name);
    if (upstreams[i]?.mapping) {
      steps.push({ path, message: `upstream ${name} already has rules at issuer.upstreams.${i}.mapping` });
    } else if (config.issuer && i < 0) {
      steps.push({ path, message: `no upstream ${name} in issuer.upstreams` });
    } else {
      steps.push({ upstream: name, rules, path });
    }
  }
  const envs = steps.some((s) => 'rules' in s && writesCel(s.rules)) ? await createCelEnvironments() : NO_CEL;
  const problems: ConfigProblem[] = [];
  let defaultMapper: RuleMapper | undefined;
  const upstreamMappers = new Map<string, RuleMapper>();
  for (const step of steps) {
    if (!('rules' in step)) {
      problems.push(step);
      continue;
    }
    const mapper = new RuleMapper(compileRules(step.rules, step.path, envs, problems));
    if (step.upstream === undefined) defaultMapper = mapper;
    else upstreamMappers.set(step.upstream, mapper);
  }
  if (problems.length > 0 || defaultMapper === undefined) throw new ConfigError(problems);
  const names = new Set([...upstreams.map((u) => u.name), ...Object.keys(separate)]);
  return new CompiledMappingSet(defaultMapper, upstreamMappers, [...names]);
}

/** One rule set to compile: the top-level one (no upstream) or an upstream's own. */
interface RuleSetStep {
  upstream?: string;
  rules: MappingConfig;
  path: string;
}
