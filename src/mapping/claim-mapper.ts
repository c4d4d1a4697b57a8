import type { Claims, UserInfo } from '../core/identity.js';
import type { CelExpression } from './cel-expression.js';
import { describeCelError } from './cel-expression.js';
import { celTypeName, NOT_STRINGS, toCelClaims, toStringList } from './cel-values.js';
import type { ClaimSource, CompiledRules, ValidationExpression } from './compiled-rules.js';
import { extraKeyProblems } from './extra-key.js';
import { refuseReservedNames, refuseSystemNames, SYSTEM_GUARD_RULE } from './system-guard.js';
import type { ClaimMapper, MappingOutcome } from './types.js';

type Refusal = Extract<MappingOutcome, { ok: false }>;

/** A step's answer: its value, or the refusal that ends the mapping. Refusals are the only allocation. */
class Refused {
  constructor(readonly outcome: Refusal) {}
}

function refuse(rule: string, reason: string, evaluationError = false): Refused {
  return new Refused(
    evaluationError ? { ok: false, rule, reason, evaluationError } : { ok: false, rule, reason },
  );
}

function evaluate(expression: CelExpression, context: object, rule: string): unknown {
  try {
    return expression.evaluate(context);
  } catch (err) {
    return refuse(rule, `evaluating ${expression.source}: ${describeCelError(err)}`, true);
  }
}

/**
 * The per-review half of a rule set: claims → user with the Kubernetes AuthenticationConfiguration semantics
 * (k8s.io/apiserver/plugin/pkg/authenticator/token/oidc/oidc.go), then groupMap and the system: guard.
 * Synchronous, no I/O; every failure is an outcome, never an exception.
 */
export class RuleMapper implements ClaimMapper {
  constructor(private readonly rules: CompiledRules) {}

  /** Config path of the rule set this mapper runs (`mapping` or `issuer.upstreams.N.mapping`). */
  get rulesPath(): string {
    return this.rules.path;
  }

  mapClaims(claims: Claims): MappingOutcome {
    const result = this.map(claims);
    return result instanceof Refused ? result.outcome : { ok: true, user: result };
  }

  checkUser(user: UserInfo, options?: { allowSystem?: boolean }): MappingOutcome {
    if (user.username === '') return { ok: false, rule: 'user.username', reason: 'username is empty' };
    const reason =
      refuseReservedNames(user.username, user.groups) ??
      (options?.allowSystem ? undefined : refuseSystemNames(user.username, user.groups, 'minted'));
    if (reason !== undefined) return { ok: false, rule: SYSTEM_GUARD_RULE, reason };
    for (const key of Object.keys(user.extra)) {
      const problems = extraKeyProblems(key);
      if (problems.length > 0)
        return { ok: false, rule: 'user.extra', reason: `key "${key}": ${problems[0]}` };
    }
    const refused = this.validateUser(user);
    return refused ? refused.outcome : { ok: true, user };
  }

  private map(claims: Claims): UserInfo | Refused {
    const r = this.rules;
    if (r.username === undefined) {
      return refuse(
        `${r.path}.claimMappings.username`,
        'no claim mappings are configured: only identities minted with an explicit username can be used',
      );
    }
    const context = r.usesClaimsExpressions ? { claims: toCelClaims(claims) } : {};
    for (const rule of r.claimValidationRules) {
      const refused =
        rule.kind === 'requiredValue'
          ? checkRequiredValue(claims, rule.claim, rule.requiredValue, rule.rule)
          : checkValidation(rule, context);
      if (refused) return refused;
    }
    const username = mapUsername(r.username, claims, context);
    if (username instanceof Refused) return username;
    const groups = r.groups ? mapGroups(r.groups, claims, context) : [];
    if (groups instanceof Refused) return groups;
    const uid = r.uid ? mapUid(r.uid, claims, context) : '';
    if (uid instanceof Refused) return uid;
    const extra: Record<string, string[]> = {};
    for (const entry of r.extra) {
      const value = evaluate(entry.expression, context, entry.rule);
      if (value instanceof Refused) return value;
      const values = toStringList(value);
      if (values === NOT_STRINGS) {
        return refuse(
          entry.rule,
          `extra value expression must return a string or a list of strings, got ${celTypeName(value)}`,
          true,
        );
      }
      if (values.length > 0) extra[entry.key] = values;
    }
    const guarded = refuseSystemNames(username, groups, 'claims');
    if (guarded !== undefined) return refuse(SYSTEM_GUARD_RULE, guarded);
    const mappedGroups = this.addMappedGroups(claims, groups);
    if (mappedGroups instanceof Refused) return mappedGroups;
    const user: UserInfo = uid === '' ? { username, groups, extra } : { username, uid, groups, extra };
    return this.validateUser(user) ?? user;
  }

  /** groupMap: raw IdP values → groups added verbatim, exempt from the guard (an admin wrote them). */
  private addMappedGroups(claims: Claims, groups: string[]): undefined | Refused {
    const { groupMap, groupMapClaim, groupMapRule } = this.rules;
    if (groupMap.size === 0) return undefined;
    const raw = claims[groupMapClaim];
    const values = Object.hasOwn(claims, groupMapClaim) ? toStringList(raw) : [];
    if (values === NOT_STRINGS) {
      return refuse(groupMapRule, `claim "${groupMapClaim}" must be a string or a list of strings`);
    }
    for (const value of values) {
      for (const group of groupMap.get(value) ?? []) if (!groups.includes(group)) groups.push(group);
    }
    return undefined;
  }

  private validateUser(user: UserInfo): Refused | undefined {
    const rules = this.rules.userValidationRules;
    if (rules.length === 0) return undefined;
    const context = {
      user: { username: user.username, uid: user.uid ?? '', groups: user.groups, extra: user.extra },
    };
    for (const rule of rules) {
      const refused = checkValidation(rule, context);
      if (refused) return refused;
    }
    return undefined;
  }
}

function checkRequiredValue(
  claims: Claims,
  claim: string,
  requiredValue: string,
  rule: string,
): Refused | undefined {
  if (!Object.hasOwn(claims, claim)) return refuse(rule, `required claim "${claim}" is not present`);
  const value = claims[claim];
  if (typeof value !== 'string') return refuse(rule, `required claim "${claim}" must be a string`);
  if (value !== requiredValue) {
    return refuse(
      rule,
      `required claim "${claim}" value does not match: got "${value}", want "${requiredValue}"`,
    );
  }
  return undefined;
}

function checkValidation(rule: ValidationExpression, context: object): Refused | undefined {
  const result = evaluate(rule.expression, context, rule.rule);
  if (result instanceof Refused) return result;
  if (typeof result !== 'boolean')
    return refuse(rule.rule, 'validation expression must return a boolean', true);
  if (result) return undefined;
  const failed = `validation expression '${rule.expression.source}' failed`;
  return refuse(rule.rule, rule.message === undefined ? failed : `${failed}: ${rule.message}`);
}

function claimString(claims: Claims, source: ClaimSource & { kind: 'claim' }): string | Refused {
  if (!Object.hasOwn(claims, source.claim))
    return refuse(source.rule, `claim "${source.claim}" is not present`);
  const value = claims[source.claim];
  return typeof value === 'string' ? value : refuse(source.rule, `claim "${source.claim}" must be a string`);
}

function expressionString(
  source: ClaimSource & { kind: 'expression' },
  context: object,
  what: string,
): string | Refused {
  const value = evaluate(source.expression, context, source.rule);
  if (value instanceof Refused || typeof value === 'string') return value;
  return refuse(source.rule, `${what} expression must return a string, got ${celTypeName(value)}`, true);
}

function mapUsername(source: ClaimSource, claims: Claims, context: object): string | Refused {
  if (source.kind === 'expression') {
    const username = expressionString(source, context, 'username');
    return username === '' ? refuse(source.rule, 'username is empty') : username;
  }
  const value = claimString(claims, source);
  if (value instanceof Refused) return value;
  if (value === '') return refuse(source.rule, `claim "${source.claim}" is empty`);
  // OIDC Core §5.1: an email is only an identity when the IdP vouches for it; oidc.go checks the same.
  if (source.claim === 'email' && Object.hasOwn(claims, 'email_verified')) {
    const verified = claims['email_verified'];
    if (typeof verified !== 'boolean') return refuse(source.rule, 'claim "email_verified" must be a boolean');
    if (!verified) return refuse(source.rule, 'email not verified (email_verified is false)');
  }
  return source.prefix + value;
}

function mapGroups(source: ClaimSource, claims: Claims, context: object): string[] | Refused {
  if (source.kind === 'expression') {
    const value = evaluate(source.expression, context, source.rule);
    if (value instanceof Refused) return value;
    const groups = toStringList(value);
    if (groups !== NOT_STRINGS) return groups;
    return refuse(
      source.rule,
      `groups expression must return a string or a list of strings, got ${celTypeName(value)}`,
      true,
    );
  }
  // kubernetes#33290: a single string claim (e.g. "role") is one group.
  const value = Object.hasOwn(claims, source.claim) ? claims[source.claim] : null;
  if (value === null) return [];
  if (typeof value === 'string') return [source.prefix + value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return value.map((group: string) => source.prefix + group);
  }
  return refuse(source.rule, `claim "${source.claim}" must be a string or a list of strings`);
}

function mapUid(source: ClaimSource, claims: Claims, context: object): string | Refused {
  return source.kind === 'expression'
    ? expressionString(source, context, 'uid')
    : claimString(claims, source);
}
