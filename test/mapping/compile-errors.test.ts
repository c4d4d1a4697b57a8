import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError, type ConfigProblem } from '../../src/core/errors.js';
import { compileMappingSet } from '../../src/mapping/index.js';
import { configObject, configWithMapping, type TestUpstream } from './mapping-config.js';

async function problemsOf(mapping: unknown, upstreams: TestUpstream[] = []): Promise<ConfigProblem[]> {
  const config = configWithMapping(mapping, upstreams);
  try {
    await compileMappingSet(config);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

const USERNAME = { username: { claim: 'sub', prefix: '' } };

interface Case {
  name: string;
  mapping: unknown;
  path: string;
  message: RegExp;
}

const cases: Case[] = [
  {
    name: 'username expression that does not parse',
    mapping: { claimMappings: { username: { expression: 'claims.sub +' } } },
    path: 'mapping.claimMappings.username.expression',
    message: /compilation failed: Unexpected token/,
  },
  {
    name: 'username missing while other mappings are set',
    mapping: { claimMappings: { groups: { claim: 'groups', prefix: '' } } },
    path: 'mapping.claimMappings.username',
    message: /required/,
  },
  {
    name: 'username with both claim and expression',
    mapping: { claimMappings: { username: { claim: 'sub', prefix: '', expression: 'claims.sub' } } },
    path: 'mapping.claimMappings.username',
    message: /claim and expression can't both be set/,
  },
  {
    name: 'username claim without prefix',
    mapping: { claimMappings: { username: { claim: 'email' } } },
    path: 'mapping.claimMappings.username.prefix',
    message: /required when claim is set/,
  },
  {
    name: 'groups claim without prefix',
    mapping: { claimMappings: { ...USERNAME, groups: { claim: 'groups' } } },
    path: 'mapping.claimMappings.groups.prefix',
    message: /required when claim is set/,
  },
  {
    name: 'prefix together with an expression',
    mapping: { claimMappings: { username: { expression: 'claims.sub', prefix: 'x:' } } },
    path: 'mapping.claimMappings.username.prefix',
    message: /may not be specified when expression is set/,
  },
  {
    name: 'uid with a prefix',
    mapping: { claimMappings: { ...USERNAME, uid: { claim: 'sub', prefix: 'x' } } },
    path: 'mapping.claimMappings.uid.prefix',
    message: /not supported/,
  },
  {
    name: 'a system: prefix the guard would always refuse',
    mapping: { claimMappings: { ...USERNAME, groups: { claim: 'groups', prefix: 'system:' } } },
    path: 'mapping.claimMappings.groups.prefix',
    message: /groupMap/,
  },
  {
    name: 'claims expression using the user variable',
    mapping: { claimMappings: { username: { expression: 'user.username' } } },
    path: 'mapping.claimMappings.username.expression',
    message: /Unknown variable: user/,
  },
  {
    name: 'username expression that can only be an int',
    mapping: { claimMappings: { username: { expression: 'size(claims.sub)' } } },
    path: 'mapping.claimMappings.username.expression',
    message: /must evaluate to a string, but evaluates to int/,
  },
  {
    name: 'groups expression that can only be a bool',
    mapping: { claimMappings: { ...USERNAME, groups: { expression: 'has(claims.groups)' } } },
    path: 'mapping.claimMappings.groups.expression',
    message: /string or a list of strings/,
  },
  {
    name: 'validation rule typed dyn, not bool (as Kubernetes refuses it)',
    mapping: { claimMappings: USERNAME, claimValidationRules: [{ expression: 'claims.email_verified' }] },
    path: 'mapping.claimValidationRules.0.expression',
    message: /must evaluate to bool.*== true/,
  },
  {
    name: 'claims.email in a username expression without email_verified anywhere',
    mapping: { claimMappings: { username: { expression: 'claims.email' } } },
    path: 'mapping.claimMappings.username.expression',
    message: /claims.email_verified must be used/,
  },
  {
    name: 'extra key without a domain',
    mapping: { claimMappings: { ...USERNAME, extra: [{ key: 'tenant', valueExpression: 'claims.tid' }] } },
    path: 'mapping.claimMappings.extra.0.key',
    message: /domain-prefixed path/,
  },
  {
    name: 'extra key with upper case',
    mapping: {
      claimMappings: { ...USERNAME, extra: [{ key: 'example.com/Tenant', valueExpression: 'claims.tid' }] },
    },
    path: 'mapping.claimMappings.extra.0.key',
    message: /must be lowercase/,
  },
  {
    name: 'extra key under kubernetes.io',
    mapping: {
      claimMappings: {
        ...USERNAME,
        extra: [{ key: 'authentication.kubernetes.io/x', valueExpression: 'claims.x' }],
      },
    },
    path: 'mapping.claimMappings.extra.0.key',
    message: /reserved for Kubernetes/,
  },
  {
    name: 'extra key under k8s.io',
    mapping: { claimMappings: { ...USERNAME, extra: [{ key: 'k8s.io/x', valueExpression: 'claims.x' }] } },
    path: 'mapping.claimMappings.extra.0.key',
    message: /reserved for Kubernetes/,
  },
  {
    name: 'duplicate extra key',
    mapping: {
      claimMappings: {
        ...USERNAME,
        extra: [
          { key: 'example.com/t', valueExpression: 'claims.a' },
          { key: 'example.com/t', valueExpression: 'claims.b' },
        ],
      },
    },
    path: 'mapping.claimMappings.extra.1.key',
    message: /duplicate/,
  },
  {
    name: 'claim validation rule with claim and expression',
    mapping: { claimMappings: USERNAME, claimValidationRules: [{ claim: 'hd', expression: 'true' }] },
    path: 'mapping.claimValidationRules.0',
    message: /can't both be set/,
  },
  {
    name: 'claim validation rule with neither claim nor expression',
    mapping: { claimMappings: USERNAME, claimValidationRules: [{ message: 'why' }] },
    path: 'mapping.claimValidationRules.0',
    message: /required/,
  },
  {
    name: 'message with a claim rule',
    mapping: {
      claimMappings: USERNAME,
      claimValidationRules: [{ claim: 'hd', requiredValue: 'x', message: 'm' }],
    },
    path: 'mapping.claimValidationRules.0.message',
    message: /may not be specified when claim is set/,
  },
  {
    name: 'requiredValue with an expression rule',
    mapping: { claimMappings: USERNAME, claimValidationRules: [{ expression: 'true', requiredValue: 'x' }] },
    path: 'mapping.claimValidationRules.0.requiredValue',
    message: /may not be specified when expression is set/,
  },
  {
    name: 'duplicate required claim',
    mapping: {
      claimMappings: USERNAME,
      claimValidationRules: [
        { claim: 'hd', requiredValue: 'a' },
        { claim: 'hd', requiredValue: 'b' },
      ],
    },
    path: 'mapping.claimValidationRules.1.claim',
    message: /duplicate/,
  },
  {
    name: 'user validation rule over claims',
    mapping: { claimMappings: USERNAME, userValidationRules: [{ expression: 'claims.sub != ""' }] },
    path: 'mapping.userValidationRules.0.expression',
    message: /Unknown variable: claims/,
  },
  {
    name: 'user validation rule naming a field UserInfo does not have',
    mapping: { claimMappings: USERNAME, userValidationRules: [{ expression: 'user.name == "x"' }] },
    path: 'mapping.userValidationRules.0.expression',
    message: /No such key: name/,
  },
  {
    name: 'duplicate user validation rule',
    mapping: {
      claimMappings: USERNAME,
      userValidationRules: [{ expression: 'user.uid != ""' }, { expression: 'user.uid != ""' }],
    },
    path: 'mapping.userValidationRules.1.expression',
    message: /duplicate/,
  },
  {
    name: 'groupMap producing a group the apiserver manages',
    mapping: { claimMappings: USERNAME, groupMap: { everyone: ['staff', 'system:authenticated'] } },
    path: 'mapping.groupMap.everyone.1',
    message: /kube-apiserver/,
  },
];

describe('compile errors name the rule path', () => {
  test.each(cases)('$name', async ({ mapping, path, message }) => {
    const problems = await problemsOf(mapping);
    expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  test('every bad rule is reported at once, default and per-upstream, each with its path', async () => {
    const problems = await problemsOf(
      {
        claimValidationRules: [{ expression: 'claims.hd ==' }],
        claimMappings: {
          username: { expression: 'claims.sub +' },
          extra: [{ key: 'Tenant', valueExpression: 'claims.tid' }],
        },
        userValidationRules: [{ expression: 'user.groups.exists(g, g ==' }],
      },
      [
        { name: 'corp', mapping: { claimMappings: { username: { claim: 'upn' } } } },
        {
          name: 'partner',
          mapping: {
            claimMappings: USERNAME,
            userValidationRules: [{ expression: 'true' }, { expression: 'user.username.size() > "x"' }],
          },
        },
      ],
    );
    expect(problems.map((p) => p.path)).toEqual([
      'mapping.claimValidationRules.0.expression',
      'mapping.claimMappings.username.expression',
      'mapping.claimMappings.extra.0.key',
      'mapping.claimMappings.extra.0.key',
      'mapping.userValidationRules.0.expression',
      'issuer.upstreams.0.mapping.claimMappings.username.prefix',
      'issuer.upstreams.1.mapping.userValidationRules.1.expression',
    ]);
  });

  test('the ConfigError message lists each problem on its own line, path first', async () => {
    const config = configWithMapping({ claimMappings: { username: { expression: '1 +' } } });
    await expect(compileMappingSet(config)).rejects.toThrowError(
      /invalid configuration:\n {2}mapping\.claimMappings\.username\.expression: compilation failed: .*\(column \d+\)/,
    );
  });

  test('an upstream without rules needs a top-level mapping that maps claims', async () => {
    const problems = await problemsOf(undefined, [{ name: 'corp' }]);
    expect(problems).toEqual([
      { path: 'issuer.upstreams.0.mapping', message: expect.stringMatching(/required/) },
    ]);
  });

  test('an empty mapping compiles: only admin-minted identities can then be used', async () => {
    expect(await problemsOf(undefined)).toEqual([]);
    expect(await problemsOf({ userValidationRules: [{ expression: 'user.uid != ""' }] })).toEqual([]);
  });

  // The CEL library is loaded only for rule sets with CEL; a kind of rule it missed would fail to compile.
  test.each<{ name: string; mapping?: unknown; upstreams?: TestUpstream[] }>([
    { name: 'username', mapping: { claimMappings: { username: { expression: 'claims.sub' } } } },
    {
      name: 'groups',
      mapping: { claimMappings: { ...USERNAME, groups: { expression: 'claims.roles' } } },
    },
    { name: 'uid', mapping: { claimMappings: { ...USERNAME, uid: { expression: 'claims.sub' } } } },
    {
      name: 'extra',
      mapping: {
        claimMappings: { ...USERNAME, extra: [{ key: 'example.com/t', valueExpression: 'claims.t' }] },
      },
    },
    {
      name: 'claimValidationRules',
      mapping: { claimMappings: USERNAME, claimValidationRules: [{ expression: 'claims.sub != ""' }] },
    },
    { name: 'userValidationRules', mapping: { userValidationRules: [{ expression: 'user.uid != ""' }] } },
    {
      name: "only an upstream's own rules",
      upstreams: [{ name: 'corp', mapping: { claimMappings: { username: { expression: 'claims.sub' } } } }],
      mapping: { claimMappings: USERNAME },
    },
  ])('CEL in $name alone compiles', async ({ mapping, upstreams }) => {
    expect(await problemsOf(mapping, upstreams)).toEqual([]);
  });

  test('a valid rule set from the Kubernetes docs compiles', async () => {
    const problems = await problemsOf({
      claimValidationRules: [
        { claim: 'hd', requiredValue: 'example.com' },
        { expression: 'claims.hd == "example.com"', message: 'the hd claim must be set to example.com' },
        {
          expression: 'claims.exp - claims.nbf <= 86400',
          message: 'total token lifetime must not exceed 24 hours',
        },
        { expression: 'claims.?email_verified.orValue(true) == true' },
      ],
      claimMappings: {
        username: { expression: 'claims.email' },
        groups: { expression: 'claims.roles.split(",")' },
        uid: { claim: 'sub' },
        extra: [{ key: 'example.com/tenant', valueExpression: 'claims.tenant' }],
      },
      userValidationRules: [
        {
          expression: "!user.username.startsWith('system:')",
          message: 'username cannot used reserved system: prefix',
        },
        {
          expression: "user.groups.all(group, !group.startsWith('system:'))",
          message: 'groups cannot used reserved system: prefix',
        },
      ],
    });
    expect(problems).toEqual([]);
  });
});

describe('upstreamMappings: per-upstream rules without the issuer', () => {
  const corpRules = { claimMappings: { username: { claim: 'email', prefix: 'corp:' } } };

  test('a process without the issuer maps an upstream with its own rules, others with the top level', async () => {
    const config = parseConfig(
      { ...configObject({ claimMappings: USERNAME }), upstreamMappings: { corp: corpRules } },
      { env: {}, baseDir: process.cwd() },
    );
    const set = await compileMappingSet(config);
    expect(set.upstreamNames).toEqual(['corp']);
    const claims = { sub: 'u-1', email: 'alice@example.com' };
    expect(set.forUpstream('corp').mapClaims(claims)).toMatchObject({
      ok: true,
      user: { username: 'corp:alice@example.com' },
    });
    expect(set.forUpstream('other').mapClaims(claims)).toMatchObject({ ok: true, user: { username: 'u-1' } });
  });

  test('rules defined twice for one upstream, or for an upstream the issuer lacks, are named', async () => {
    const config = (upstreams: TestUpstream[], separate: Record<string, unknown>) =>
      parseConfig(
        { ...configObject({ claimMappings: USERNAME }, upstreams), upstreamMappings: separate },
        { env: {}, baseDir: process.cwd() },
      );
    const problems = async (c: ReturnType<typeof config>) => {
      try {
        await compileMappingSet(c);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(await problems(config([{ name: 'corp', mapping: corpRules }], { corp: corpRules }))).toEqual([
      {
        path: 'upstreamMappings.corp',
        message: 'upstream corp already has rules at issuer.upstreams.0.mapping',
      },
    ]);
    expect(await problems(config([{ name: 'corp' }], { crop: corpRules }))).toEqual([
      { path: 'upstreamMappings.crop', message: 'no upstream crop in issuer.upstreams' },
    ]);
    expect(await problems(config([{ name: 'corp' }], { corp: corpRules }))).toEqual([]);
  });

  test('CEL only in upstreamMappings compiles and maps', async () => {
    const config = parseConfig(
      {
        ...configObject({ claimMappings: USERNAME }),
        upstreamMappings: { corp: { claimMappings: { username: { expression: '"corp:" + claims.sub' } } } },
      },
      { env: {}, baseDir: process.cwd() },
    );
    const set = await compileMappingSet(config);
    expect(set.forUpstream('corp').mapClaims({ sub: 'u-1' })).toMatchObject({
      ok: true,
      user: { username: 'corp:u-1' },
    });
  });

  test('a bad rule in upstreamMappings is named by its path', async () => {
    const config = parseConfig(
      {
        ...configObject({ claimMappings: USERNAME }),
        upstreamMappings: { corp: { claimMappings: { username: { expression: 'claims.email +' } } } },
      },
      { env: {}, baseDir: process.cwd() },
    );
    await expect(compileMappingSet(config)).rejects.toThrowError(
      /upstreamMappings\.corp\.claimMappings\.username\.expression/,
    );
  });
});
