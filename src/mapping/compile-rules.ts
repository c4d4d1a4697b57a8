import type { Environment } from '@marcbachmann/cel-js';
import type { MappingConfig } from '../config/index.js';
import type { ConfigProblem } from '../core/errors.js';
import { selectsField } from './ast-select.js';
import type { CelEnvironments } from './cel-environment.js';
import { type CelExpression, compileExpression } from './cel-expression.js';
import type {
  ClaimSource,
  ClaimValidationRule,
  CompiledRules,
  ExtraRule,
  ValidationExpression,
} from './compiled-rules.js';
import { extraKeyProblems } from './extra-key.js';
import { APISERVER_RESERVED_NAMES } from './system-guard.js';

type ClaimOrExpression = NonNullable<MappingConfig['claimMappings']['username']>;

/** True when the rule set says anything about claims (an empty `mapping:` maps none and needs no username). */
export function mapsClaims(config: MappingConfig): boolean {
  const m = config.claimMappings;
  return (
    m.username !== undefined ||
    m.groups !== undefined ||
    m.uid !== undefined ||
    m.extra.length > 0 ||
    config.claimValidationRules.length > 0 ||
    Object.keys(config.groupMap).length > 0 ||
    config.groupMapClaim !== undefined
  );
}

/**
 * Compiles one rule set, validating it the way the kube-apiserver validates a `jwt[]` authenticator
 * (k8s.io/apiserver/pkg/apis/apiserver/validation/validation.go), plus the groupMap and system: rules.
 * Every problem is appended to `problems` with its path; the result is only usable when none were added.
 */
export function compileRules(
  config: MappingConfig,
  path: string,
  envs: CelEnvironments,
  problems: ConfigProblem[],
): CompiledRules {
  const claimValidationRules = compileClaimValidationRules(config, path, envs, problems);
  const m = config.claimMappings;
  const at = `${path}.claimMappings`;
  if (m.username === undefined && mapsClaims(config)) {
    problems.push({
      path: `${at}.username`,
      message: 'required: give a claim (with prefix) or an expression',
    });
  }
  const username = compileSource(m.username, `${at}.username`, 'string', true, envs, problems);
  const groups = compileSource(m.groups, `${at}.groups`, 'strings', true, envs, problems);
  const uid = compileSource(m.uid, `${at}.uid`, 'string', false, envs, problems);
  const extra = compileExtra(m.extra, `${at}.extra`, envs, problems);
  requireEmailVerified(username, claimValidationRules, extra, problems);
  // `envs.user` only when there are rules: without CEL rules the environments are never built.
  const userValidationRules =
    config.userValidationRules.length === 0
      ? []
      : compileValidations(config.userValidationRules, `${path}.userValidationRules`, envs.user, problems);
  const groupMap = new Map<string, readonly string[]>();
  for (const [raw, mapped] of Object.entries(config.groupMap)) {
    mapped.forEach((group, i) => {
      if (APISERVER_RESERVED_NAMES.has(group)) {
        problems.push({
          path: `${path}.groupMap.${raw}.${i}`,
          message: `"${group}" is managed by the kube-apiserver itself and is never emitted`,
        });
      }
    });
    groupMap.set(raw, mapped);
  }
  const usesClaimsExpressions =
    claimValidationRules.some((r) => r.kind === 'expression') ||
    [username, groups, uid].some((s) => s?.kind === 'expression') ||
    extra.length > 0;
  return {
    path,
    claimValidationRules,
    username,
    groups,
    uid,
    extra,
    groupMap,
    groupMapClaim: config.groupMapClaim ?? (m.groups?.claim || 'groups'),
    groupMapRule: `${path}.groupMap`,
    userValidationRules,
    usesClaimsExpressions,
  };
}

function compileClaimValidationRules(
  config: MappingConfig,
  path: string,
  envs: CelEnvironments,
  problems: ConfigProblem[],
): ClaimValidationRule[] {
  const out: ClaimValidationRule[] = [];
  const seenClaims = new Set<string>();
  const seenExpressions = new Set<string>();
  config.claimValidationRules.forEach((rule, i) => {
    const at = `${path}.claimValidationRules.${i}`;
    if (rule.claim !== undefined && rule.expression !== undefined) {
      problems.push({ path: at, message: "claim and expression can't both be set" });
    } else if (rule.claim !== undefined) {
      if (rule.message !== undefined) {
        problems.push({ path: `${at}.message`, message: 'may not be specified when claim is set' });
      }
      if (seenClaims.has(rule.claim))
        problems.push({ path: `${at}.claim`, message: `duplicate: ${rule.claim}` });
      seenClaims.add(rule.claim);
      // As in Kubernetes: without requiredValue the claim must be present with an empty string value.
      out.push({
        kind: 'requiredValue',
        claim: rule.claim,
        requiredValue: rule.requiredValue ?? '',
        rule: at,
      });
    } else if (rule.expression !== undefined) {
      if (rule.requiredValue !== undefined) {
        problems.push({
          path: `${at}.requiredValue`,
          message: 'may not be specified when expression is set',
        });
      }
      const compiled = compileValidation(rule, at, seenExpressions, envs.claims, problems);
      if (compiled) out.push({ kind: 'expression', ...compiled });
    } else {
      problems.push({ path: at, message: 'required: claim or expression' });
    }
  });
  return out;
}

function compileValidations(
  rules: readonly { expression: string; message?: string | undefined }[],
  path: string,
  env: Environment,
  problems: ConfigProblem[],
): ValidationExpression[] {
  const seen = new Set<string>();
  const out: ValidationExpression[] = [];
  rules.forEach((rule, i) => {
    const compiled = compileValidation(rule, `${path}.${i}`, seen, env, problems);
    if (compiled) out.push(compiled);
  });
  return out;
}

function compileValidation(
  rule: { expression?: string | undefined; message?: string | undefined },
  at: string,
  seen: Set<string>,
  env: Environment,
  problems: ConfigProblem[],
): ValidationExpression | undefined {
  const source = rule.expression ?? '';
  if (seen.has(source)) {
    problems.push({ path: `${at}.expression`, message: `duplicate: ${source}` });
    return undefined;
  }
  seen.add(source);
  const expression = compileExpression(env, source, 'bool', `${at}.expression`, problems);
  return expression && { expression, message: rule.message || undefined, rule: at };
}

function compileSource(
  source: ClaimOrExpression | undefined,
  at: string,
  kind: 'string' | 'strings',
  takesPrefix: boolean,
  envs: CelEnvironments,
  problems: ConfigProblem[],
): ClaimSource | undefined {
  if (source === undefined) return undefined;
  const { claim, prefix, expression } = source;
  if (claim !== undefined && expression !== undefined) {
    problems.push({ path: at, message: "claim and expression can't both be set" });
    return undefined;
  }
  if (expression !== undefined) {
    if (prefix !== undefined) {
      problems.push({ path: `${at}.prefix`, message: 'may not be specified when expression is set' });
    }
    const compiled = compileExpression(envs.claims, expression, kind, `${at}.expression`, problems);
    return compiled && { kind: 'expression', expression: compiled, rule: `${at}.expression` };
  }
  if (claim === undefined) {
    problems.push({ path: at, message: 'required: claim or expression' });
    return undefined;
  }
  if (!takesPrefix && prefix !== undefined) {
    problems.push({
      path: `${at}.prefix`,
      message: 'not supported here (uid is used as the claim gives it)',
    });
  }
  if (takesPrefix && prefix === undefined) {
    problems.push({
      path: `${at}.prefix`,
      message: 'required when claim is set; set it to "" to disable prefixing',
    });
  }
  if (prefix?.startsWith('system:')) {
    problems.push({
      path: `${at}.prefix`,
      message:
        'a system: prefix makes every IdP value a system: name, which the system: guard refuses; use groupMap',
    });
  }
  return { kind: 'claim', claim, prefix: prefix ?? '', rule: `${at}.claim` };
}

function compileExtra(
  entries: MappingConfig['claimMappings']['extra'],
  at: string,
  envs: CelEnvironments,
  problems: ConfigProblem[],
): ExtraRule[] {
  const seen = new Set<string>();
  const out: ExtraRule[] = [];
  entries.forEach(({ key, valueExpression }, i) => {
    const rule = `${at}.${i}`;
    for (const message of extraKeyProblems(key)) problems.push({ path: `${rule}.key`, message });
    if (seen.has(key)) {
      problems.push({ path: `${rule}.key`, message: `duplicate: ${key}` });
      return;
    }
    seen.add(key);
    const expression = compileExpression(
      envs.claims,
      valueExpression,
      'strings',
      `${rule}.valueExpression`,
      problems,
    );
    if (expression) out.push({ key, expression, rule });
  });
  return out;
}

/**
 * A username taken from `claims.email` by expression must look at `claims.email_verified` somewhere (the
 * automatic check `claim: email` does), exactly as Kubernetes demands.
 */
function requireEmailVerified(
  username: ClaimSource | undefined,
  claimValidationRules: readonly ClaimValidationRule[],
  extra: readonly ExtraRule[],
  problems: ConfigProblem[],
): void {
  if (username?.kind !== 'expression' || !selectsField(username.expression.ast, 'claims', 'email')) return;
  const checked: CelExpression[] = [username.expression, ...extra.map((e) => e.expression)];
  for (const rule of claimValidationRules) if (rule.kind === 'expression') checked.push(rule.expression);
  if (checked.some((e) => selectsField(e.ast, 'claims', 'email_verified'))) return;
  problems.push({
    path: username.rule,
    message:
      'claims.email_verified must be used in claimMappings.username.expression or claimMappings.extra[*].valueExpression ' +
      "or claimValidationRules[*].expression when claims.email is used (e.g. 'claims.?email_verified.orValue(true) == true')",
  });
}
