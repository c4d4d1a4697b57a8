import { describe, expect, test } from 'vitest';
import type { Claims, UserInfo } from '../../src/core/identity.js';
import { compileMappingSet, type MappingOutcome, SYSTEM_GUARD_RULE } from '../../src/mapping/index.js';
import { configWithMapping, type TestUpstream } from './mapping-config.js';

/** The Kubernetes documentation's "Valid token" example (authentication.md), verbatim. */
const K8S_DOC_MAPPING = {
  claimMappings: {
    username: { expression: 'claims.username + ":external-user"' },
    groups: { expression: 'claims.roles.split(",")' },
    uid: { expression: 'claims.sub' },
    extra: [{ key: 'example.com/tenant', valueExpression: 'claims.tenant' }],
  },
  userValidationRules: [
    {
      expression: "!user.username.startsWith('system:')",
      message: 'username cannot used reserved system: prefix',
    },
  ],
};

/** The token payload of that example. */
const K8S_DOC_CLAIMS = {
  aud: 'kubernetes',
  exp: 1703232949,
  iat: 1701107233,
  iss: 'https://example.com',
  jti: '7c337942807e73caa2c30c868ac0ce910bce02ddcbfebe8c23b8b5f27ad62873',
  nbf: 1701107233,
  roles: 'user,admin',
  sub: 'auth',
  tenant: '72f988bf-86f1-41af-91ab-2d7cd011db4a',
  username: 'foo',
};

const EMAIL_AND_GROUPS = {
  claimMappings: {
    username: { claim: 'email', prefix: '' },
    groups: { claim: 'groups', prefix: 'oidc:' },
  },
};

type Expected = { user: UserInfo } | { rule: string; reason?: RegExp; evaluationError?: boolean };

interface Case {
  name: string;
  mapping: unknown;
  claims: Claims;
  upstreams?: TestUpstream[];
  upstream?: string;
  expected: Expected;
}

function user(
  username: string,
  groups: string[] = [],
  extra: Record<string, string[]> = {},
  uid?: string,
): { user: UserInfo } {
  return { user: uid === undefined ? { username, groups, extra } : { username, uid, groups, extra } };
}

function check(outcome: MappingOutcome, expected: Expected): void {
  if ('user' in expected) {
    expect(outcome).toEqual({ ok: true, user: expected.user });
    return;
  }
  expect(outcome.ok, JSON.stringify(outcome)).toBe(false);
  if (outcome.ok) return;
  expect(outcome.rule).toBe(expected.rule);
  if (expected.reason) expect(outcome.reason).toMatch(expected.reason);
  expect(outcome.evaluationError === true).toBe(expected.evaluationError === true);
}

const cases: Case[] = [
  // claim + prefix
  {
    name: 'username from the email claim with an empty prefix',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com', email_verified: true, groups: ['dev', 'ops'] },
    expected: user('alice@example.com', ['oidc:dev', 'oidc:ops']),
  },
  {
    name: 'username from sub with an issuer prefix',
    mapping: { claimMappings: { username: { claim: 'sub', prefix: 'https://idp.example.com#' } } },
    claims: { sub: '1234' },
    expected: user('https://idp.example.com#1234'),
  },
  {
    name: 'username claim missing is refused',
    mapping: EMAIL_AND_GROUPS,
    claims: { sub: '1234' },
    expected: { rule: 'mapping.claimMappings.username.claim', reason: /claim "email" is not present/ },
  },
  {
    name: 'username claim that is not a string is refused',
    mapping: { claimMappings: { username: { claim: 'sub', prefix: '' } } },
    claims: { sub: 1234 },
    expected: { rule: 'mapping.claimMappings.username.claim', reason: /must be a string/ },
  },
  {
    name: 'empty username claim is refused',
    mapping: { claimMappings: { username: { claim: 'sub', prefix: 'idp:' } } },
    claims: { sub: '' },
    expected: { rule: 'mapping.claimMappings.username.claim', reason: /empty/ },
  },
  // email_verified
  {
    name: 'claim: email with email_verified false is refused',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com', email_verified: false },
    expected: { rule: 'mapping.claimMappings.username.claim', reason: /email not verified/ },
  },
  {
    name: 'claim: email without email_verified is accepted',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com' },
    expected: user('alice@example.com'),
  },
  {
    name: 'claim: email with a non-boolean email_verified is refused',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com', email_verified: 'true' },
    expected: { rule: 'mapping.claimMappings.username.claim', reason: /email_verified" must be a boolean/ },
  },
  {
    name: 'email_verified is only checked for the email claim',
    mapping: { claimMappings: { username: { claim: 'preferred_username', prefix: '' } } },
    claims: { preferred_username: 'alice', email_verified: false },
    expected: user('alice'),
  },
  {
    name: 'username expression over claims.email with the documented email_verified rule',
    mapping: {
      claimValidationRules: [{ expression: 'claims.?email_verified.orValue(true) == true' }],
      claimMappings: { username: { expression: 'claims.email' } },
    },
    claims: { email: 'alice@example.com', email_verified: false },
    expected: { rule: 'mapping.claimValidationRules.0', reason: /email_verified/ },
  },
  // groups: string vs list
  {
    name: 'groups claim as a single string is one group',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com', groups: 'dev' },
    expected: user('alice@example.com', ['oidc:dev']),
  },
  {
    name: 'groups claim absent means no groups',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com' },
    expected: user('alice@example.com'),
  },
  {
    name: 'groups claim of the wrong type is refused',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com', groups: { dev: true } },
    expected: { rule: 'mapping.claimMappings.groups.claim', reason: /string or a list of strings/ },
  },
  {
    name: 'groups claim with a non-string element is refused',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'alice@example.com', groups: ['dev', 7] },
    expected: { rule: 'mapping.claimMappings.groups.claim' },
  },
  {
    name: 'groups expression: empty strings dropped, a list mapped',
    mapping: {
      claimMappings: {
        username: { expression: 'claims.sub' },
        groups: { expression: 'claims.teams.map(t, t == "" ? "" : "team:" + t)' },
      },
    },
    claims: { sub: 'u1', teams: ['a', '', 'b'] },
    expected: user('u1', ['team:a', 'team:b']),
  },
  {
    name: 'groups expression returning "" or null means no groups',
    mapping: {
      claimMappings: {
        username: { expression: 'claims.sub' },
        groups: { expression: 'has(claims.team) ? claims.team : ""' },
      },
    },
    claims: { sub: 'u1' },
    expected: user('u1'),
  },
  // uid
  {
    name: 'uid from a claim',
    mapping: { claimMappings: { username: { claim: 'email', prefix: '' }, uid: { claim: 'sub' } } },
    claims: { email: 'alice@example.com', sub: 'f00' },
    expected: user('alice@example.com', [], {}, 'f00'),
  },
  {
    name: 'uid claim missing is refused, as in Kubernetes',
    mapping: { claimMappings: { username: { claim: 'email', prefix: '' }, uid: { claim: 'sub' } } },
    claims: { email: 'alice@example.com' },
    expected: { rule: 'mapping.claimMappings.uid.claim', reason: /not present/ },
  },
  // the Kubernetes documentation examples, verbatim
  {
    name: 'Kubernetes docs "Valid token" example maps as documented',
    mapping: K8S_DOC_MAPPING,
    claims: K8S_DOC_CLAIMS,
    expected: user(
      'foo:external-user',
      ['user', 'admin'],
      { 'example.com/tenant': ['72f988bf-86f1-41af-91ab-2d7cd011db4a'] },
      'auth',
    ),
  },
  {
    name: 'Kubernetes docs "Fails claim validation" example is refused by the hd rule',
    mapping: {
      ...K8S_DOC_MAPPING,
      claimValidationRules: [
        { expression: 'claims.hd == "example.com"', message: 'the hd claim must be set to example.com' },
      ],
    },
    claims: K8S_DOC_CLAIMS,
    expected: { rule: 'mapping.claimValidationRules.0', reason: /No such key: hd/, evaluationError: true },
  },
  {
    name: 'Kubernetes docs "Fails user validation" example is refused (the system: guard speaks first)',
    mapping: {
      ...K8S_DOC_MAPPING,
      claimMappings: {
        ...K8S_DOC_MAPPING.claimMappings,
        username: { expression: '"system:" + claims.username' },
      },
    },
    claims: { ...K8S_DOC_CLAIMS, hd: 'example.com' },
    expected: { rule: SYSTEM_GUARD_RULE, reason: /system:foo/ },
  },
  {
    name: 'Kubernetes docs token lifetime rule: int arithmetic over exp and nbf',
    mapping: {
      claimValidationRules: [
        {
          expression: 'claims.exp - claims.nbf <= 86400',
          message: 'total token lifetime must not exceed 24 hours',
        },
      ],
      claimMappings: { username: { claim: 'sub', prefix: '' } },
    },
    claims: { sub: 'u1', nbf: 1701107233, exp: 1701107233 + 86401 },
    expected: { rule: 'mapping.claimValidationRules.0', reason: /must not exceed 24 hours/ },
  },
  // extra
  {
    name: 'extra: string and list values kept, empty ones dropped',
    mapping: {
      claimMappings: {
        username: { claim: 'sub', prefix: '' },
        extra: [
          { key: 'example.com/tenant', valueExpression: 'claims.tenant' },
          { key: 'example.com/scopes', valueExpression: 'claims.scp' },
          { key: 'example.com/empty', valueExpression: '""' },
          { key: 'example.com/none', valueExpression: '[]' },
        ],
      },
    },
    claims: { sub: 'u1', tenant: 'acme', scp: ['read', '', 'write'] },
    expected: user('u1', [], { 'example.com/tenant': ['acme'], 'example.com/scopes': ['read', 'write'] }),
  },
  {
    name: 'extra value of the wrong type is an evaluation error',
    mapping: {
      claimMappings: {
        username: { claim: 'sub', prefix: '' },
        extra: [{ key: 'example.com/level', valueExpression: 'claims.level' }],
      },
    },
    claims: { sub: 'u1', level: 3 },
    expected: { rule: 'mapping.claimMappings.extra.0', reason: /got int/, evaluationError: true },
  },
  // claimValidationRules with claim + requiredValue
  ...[
    { name: 'required claim with the required value passes', hd: 'example.com', expected: user('u1') },
    {
      name: 'required claim with another value is refused',
      hd: 'evil.com',
      expected: { rule: 'mapping.claimValidationRules.0', reason: /got "evil.com", want "example.com"/ },
    },
    {
      name: 'required claim absent is refused',
      hd: undefined,
      expected: { rule: 'mapping.claimValidationRules.0', reason: /not present/ },
    },
    {
      name: 'required claim that is not a string is refused',
      hd: ['example.com'],
      expected: { rule: 'mapping.claimValidationRules.0', reason: /must be a string/ },
    },
  ].map(({ name, hd, expected }) => ({
    name,
    mapping: {
      claimValidationRules: [{ claim: 'hd', requiredValue: 'example.com' }],
      claimMappings: { username: { claim: 'sub', prefix: '' } },
    },
    claims: hd === undefined ? { sub: 'u1' } : { sub: 'u1', hd },
    expected,
  })),
  // userValidationRules
  {
    name: 'userValidationRules see the mapped user and refuse with their message',
    mapping: {
      ...EMAIL_AND_GROUPS,
      userValidationRules: [
        { expression: 'user.username.endsWith("@example.com")' },
        { expression: 'user.groups.exists(g, g == "oidc:staff")', message: 'staff only' },
      ],
    },
    claims: { email: 'bob@example.com', groups: ['contractors'] },
    expected: { rule: 'mapping.userValidationRules.1', reason: /failed: staff only/ },
  },
  {
    name: 'userValidationRules pass: uid and extra are visible',
    mapping: {
      claimMappings: {
        username: { claim: 'sub', prefix: '' },
        uid: { claim: 'oid' },
        extra: [{ key: 'example.com/tenant', valueExpression: 'claims.tid' }],
      },
      userValidationRules: [{ expression: 'user.uid != "" && user.extra["example.com/tenant"][0] == "t1"' }],
    },
    claims: { sub: 'u1', oid: 'o1', tid: 't1' },
    expected: user('u1', [], { 'example.com/tenant': ['t1'] }, 'o1'),
  },
  // groupMap and the system: guard
  {
    name: 'groupMap adds the mapped groups verbatim, after the prefixed ones',
    mapping: { ...EMAIL_AND_GROUPS, groupMap: { 'k8s-admins': ['cluster-admins', 'system:masters'] } },
    claims: { email: 'alice@example.com', groups: ['k8s-admins', 'dev'] },
    expected: user('alice@example.com', ['oidc:k8s-admins', 'oidc:dev', 'cluster-admins', 'system:masters']),
  },
  {
    name: 'groupMap: system:masters produced by an admin rule is allowed',
    mapping: {
      claimMappings: { username: { claim: 'email', prefix: '' } },
      groupMap: { 'k8s-admins': ['system:masters'] },
    },
    claims: { email: 'alice@example.com', groups: 'k8s-admins' },
    expected: user('alice@example.com', ['system:masters']),
  },
  {
    name: 'groupMap reads groupMapClaim when set',
    mapping: {
      ...EMAIL_AND_GROUPS,
      groupMap: { admin: ['platform-admins'] },
      groupMapClaim: 'roles',
    },
    claims: { email: 'alice@example.com', groups: ['admin'], roles: ['admin'] },
    expected: user('alice@example.com', ['oidc:admin', 'platform-admins']),
  },
  {
    name: 'groupMap defaults to the groups mapping claim',
    mapping: {
      claimMappings: { username: { claim: 'sub', prefix: '' }, groups: { claim: 'teams', prefix: 'team:' } },
      groupMap: { sre: ['sre-oncall'] },
    },
    claims: { sub: 'u1', teams: ['sre'], groups: ['ignored'] },
    expected: user('u1', ['team:sre', 'sre-oncall']),
  },
  {
    name: 'groupMap does not repeat a group already present',
    mapping: {
      claimMappings: { username: { claim: 'sub', prefix: '' }, groups: { claim: 'groups', prefix: '' } },
      groupMap: { ops: ['ops'] },
    },
    claims: { sub: 'u1', groups: ['ops'] },
    expected: user('u1', ['ops']),
  },
  {
    name: 'raw IdP group system:masters through a claim is refused by the guard',
    mapping: {
      claimMappings: { username: { claim: 'email', prefix: '' }, groups: { claim: 'groups', prefix: '' } },
      groupMap: { 'k8s-admins': ['system:masters'] },
    },
    claims: { email: 'mallory@example.com', groups: ['system:masters'] },
    expected: { rule: SYSTEM_GUARD_RULE, reason: /"system:masters".*groupMap/ },
  },
  {
    name: 'a prefixed raw group cannot be a system: group (oidc:system:masters is harmless)',
    mapping: EMAIL_AND_GROUPS,
    claims: { email: 'mallory@example.com', groups: ['system:masters'] },
    expected: user('mallory@example.com', ['oidc:system:masters']),
  },
  {
    name: 'raw IdP group system:masters through an expression is refused by the guard',
    mapping: {
      claimMappings: { username: { expression: 'claims.sub' }, groups: { expression: 'claims.groups' } },
    },
    claims: { sub: 'mallory', groups: ['dev', 'system:masters'] },
    expected: { rule: SYSTEM_GUARD_RULE, reason: /system:masters/ },
  },
  {
    name: 'a system: username from the IdP is refused by the guard',
    mapping: { claimMappings: { username: { claim: 'preferred_username', prefix: '' } } },
    claims: { preferred_username: 'system:kube-controller-manager' },
    expected: { rule: SYSTEM_GUARD_RULE, reason: /username "system:kube-controller-manager"/ },
  },
  {
    name: 'a groupMap claim of the wrong type is refused',
    mapping: { claimMappings: { username: { claim: 'sub', prefix: '' } }, groupMap: { a: ['b'] } },
    claims: { sub: 'u1', groups: 42 },
    expected: { rule: 'mapping.groupMap', reason: /string or a list of strings/ },
  },
  // CEL evaluation failures are outcomes, never exceptions or successes
  {
    name: 'CEL: missing key in the username expression is an evaluation error',
    mapping: { claimMappings: { username: { expression: 'claims.preferred_username' } } },
    claims: { sub: 'u1' },
    expected: {
      rule: 'mapping.claimMappings.username.expression',
      reason: /No such key: preferred_username/,
      evaluationError: true,
    },
  },
  {
    name: 'CEL: username expression returning a non-string is an evaluation error',
    mapping: { claimMappings: { username: { expression: 'claims.id' } } },
    claims: { id: 42 },
    expected: { rule: 'mapping.claimMappings.username.expression', reason: /got int/, evaluationError: true },
  },
  {
    name: 'CEL: wrong operand types fail at evaluation',
    mapping: { claimMappings: { username: { expression: 'claims.sub + claims.n' } } },
    claims: { sub: 'u1', n: 1 },
    expected: { rule: 'mapping.claimMappings.username.expression', evaluationError: true },
  },
  {
    name: 'CEL: groups expression returning a list of ints is an evaluation error',
    mapping: {
      claimMappings: { username: { expression: 'claims.sub' }, groups: { expression: 'claims.ids' } },
    },
    claims: { sub: 'u1', ids: [1, 2] },
    expected: { rule: 'mapping.claimMappings.groups.expression', evaluationError: true },
  },
  {
    name: 'CEL: a dyn validation result that is not a bool is an evaluation error',
    mapping: {
      claimValidationRules: [{ expression: 'claims.flag == true || claims.flag' }],
      claimMappings: { username: { claim: 'sub', prefix: '' } },
    },
    claims: { sub: 'u1', flag: 'yes' },
    expected: { rule: 'mapping.claimValidationRules.0', evaluationError: true },
  },
  {
    name: 'CEL: an error in a user validation rule is an evaluation error',
    mapping: {
      claimMappings: { username: { claim: 'sub', prefix: '' } },
      userValidationRules: [{ expression: 'user.extra["example.com/x"][0] == "y"' }],
    },
    claims: { sub: 'u1' },
    expected: { rule: 'mapping.userValidationRules.0', evaluationError: true },
  },
  // rule sets
  {
    name: 'no claim mappings configured: claims cannot be mapped',
    mapping: undefined,
    claims: { sub: 'u1' },
    expected: { rule: 'mapping.claimMappings.username', reason: /no claim mappings/ },
  },
  {
    name: 'per-upstream rules apply to that upstream',
    mapping: EMAIL_AND_GROUPS,
    upstreams: [
      {
        name: 'corp',
        mapping: {
          claimMappings: {
            username: { claim: 'upn', prefix: 'corp:' },
            groups: { claim: 'roles', prefix: 'corp:' },
          },
        },
      },
      { name: 'partner' },
    ],
    upstream: 'corp',
    claims: { upn: 'alice@corp', roles: ['dev'], email: 'ignored@example.com', groups: ['ignored'] },
    expected: user('corp:alice@corp', ['corp:dev']),
  },
  {
    name: 'an upstream without rules of its own uses the top-level mapping',
    mapping: EMAIL_AND_GROUPS,
    upstreams: [
      { name: 'corp', mapping: { claimMappings: { username: { claim: 'upn', prefix: 'corp:' } } } },
      { name: 'partner' },
    ],
    upstream: 'partner',
    claims: { email: 'pat@partner.example', groups: ['dev'] },
    expected: user('pat@partner.example', ['oidc:dev']),
  },
  {
    name: "per-upstream rules refuse what the default rules accept (and name the upstream's rule)",
    mapping: EMAIL_AND_GROUPS,
    upstreams: [
      { name: 'corp', mapping: { claimMappings: { username: { claim: 'upn', prefix: 'corp:' } } } },
    ],
    upstream: 'corp',
    claims: { email: 'alice@example.com' },
    expected: {
      rule: 'issuer.upstreams.0.mapping.claimMappings.username.claim',
      reason: /"upn" is not present/,
    },
  },
];

describe('claim mapping (mapClaims)', () => {
  test.each(cases)('$name', async ({ mapping, claims, upstreams, upstream, expected }) => {
    const set = await compileMappingSet(configWithMapping(mapping, upstreams));
    check(set.forUpstream(upstream).mapClaims(claims), expected);
  });

  test('claims are not modified by mapping (integers stay numbers for the caller)', async () => {
    const set = await compileMappingSet(configWithMapping(K8S_DOC_MAPPING));
    const claims = structuredClone(K8S_DOC_CLAIMS);
    set.forUpstream().mapClaims(claims);
    expect(claims).toEqual(K8S_DOC_CLAIMS);
  });

  test('hostile claims never throw: every outcome is a value', async () => {
    const set = await compileMappingSet(
      configWithMapping({
        ...K8S_DOC_MAPPING,
        claimValidationRules: [{ expression: 'claims.exp - claims.nbf <= 86400' }],
        groupMap: { admins: ['system:masters'] },
      }),
    );
    const hostile: Claims[] = [
      {},
      { username: null, roles: null, sub: null },
      { username: ['a'], roles: 5, sub: {}, tenant: [1] },
      { username: 'x', roles: 'a', sub: 's', tenant: 't', exp: 'soon', nbf: 1 },
      { username: 'x', roles: 'a', sub: 's', tenant: 't', exp: 1e300, nbf: -1e300 },
      JSON.parse(
        '{"__proto__": {"polluted": true}, "username": "x", "roles": "a", "sub": "s", "tenant": "t"}',
      ),
      { username: 'x', roles: 'a', sub: 's', tenant: 't', groups: { toString: 'admins' } },
    ];
    for (const claims of hostile) {
      const outcome = set.forUpstream().mapClaims(claims);
      expect(typeof outcome.ok).toBe('boolean');
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('admin-written identities (checkUser)', async () => {
  const set = await compileMappingSet(
    configWithMapping({
      ...EMAIL_AND_GROUPS,
      userValidationRules: [{ expression: '!user.username.startsWith("banned-")', message: 'banned' }],
    }),
  );
  const mapper = set.forUpstream();
  const identity = (
    username: string,
    groups: string[] = [],
    extra: Record<string, string[]> = {},
  ): UserInfo => ({
    username,
    groups,
    extra,
  });

  test.each([
    {
      name: 'a plain identity passes as written',
      user: identity('ci-bot', ['ci']),
      allowSystem: false,
      rule: undefined,
    },
    {
      name: 'system:masters without allowSystem is refused by the guard',
      user: identity('ops', ['system:masters']),
      allowSystem: false,
      rule: SYSTEM_GUARD_RULE,
    },
    {
      name: 'system:masters with allowSystem is allowed',
      user: identity('ops', ['system:masters']),
      allowSystem: true,
      rule: undefined,
    },
    {
      name: 'a system: username with allowSystem is allowed',
      user: identity('system:serviceaccount:ci:deployer'),
      allowSystem: true,
      rule: undefined,
    },
    {
      name: 'system:authenticated is never emitted, even with allowSystem',
      user: identity('ops', ['system:authenticated']),
      allowSystem: true,
      rule: SYSTEM_GUARD_RULE,
    },
    {
      name: 'system:anonymous is never emitted, even with allowSystem',
      user: identity('system:anonymous'),
      allowSystem: true,
      rule: SYSTEM_GUARD_RULE,
    },
    {
      name: 'system:unauthenticated is never emitted, even with allowSystem',
      user: identity('ops', ['system:unauthenticated']),
      allowSystem: true,
      rule: SYSTEM_GUARD_RULE,
    },
    { name: 'an empty username is refused', user: identity(''), allowSystem: true, rule: 'user.username' },
    {
      name: 'an extra key under kubernetes.io is refused',
      user: identity('ops', [], { 'authentication.kubernetes.io/credential-id': ['x'] }),
      allowSystem: true,
      rule: 'user.extra',
    },
    {
      name: 'userValidationRules apply to minted identities',
      user: identity('banned-eve'),
      allowSystem: false,
      rule: 'mapping.userValidationRules.0',
    },
  ])('$name', ({ user: identityUnderTest, allowSystem, rule }) => {
    const outcome = mapper.checkUser(identityUnderTest, { allowSystem });
    if (rule === undefined) expect(outcome).toEqual({ ok: true, user: identityUnderTest });
    else expect(outcome).toMatchObject({ ok: false, rule });
  });
});
