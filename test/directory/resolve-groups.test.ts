import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { upstreamGroupsSchema } from '../../src/config/directory-schema.js';
import {
  createUpstreamJwtVerifier,
  DEFAULT_GROUP_SETTINGS,
  decodeSources,
  type GroupLookupDeps,
  type GroupSettings,
  resolveUpstreamGroups,
} from '../../src/directory/index.js';
import {
  type ClaimsSourceStandIn,
  type GraphStandIn,
  manyGraphGroups,
  type OktaStandIn,
  startClaimsSourceStandIn,
  startGraphStandIn,
  startOktaStandIn,
} from '../support/directory-standins.js';

/**
 * Group lookups against loopback stand-ins of Microsoft Graph, the Okta API and a distributed claims
 * endpoint, with real HTTP and real JWT signatures. Time is virtual: waits are recorded, not slept.
 */

const ISSUER = 'https://idp.example';
const USER_TOKEN = 'upstream-access-token-of-alice';

let graph: GraphStandIn;
let okta: OktaStandIn;
let claimsSource: ClaimsSourceStandIn;
let jwks: Server;
let jwksUri: string;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: PrivateKey;
let strangerKey: PrivateKey;
let virtualNow = 1_800_000_000_000;
let waits: number[] = [];

const deps = (): GroupLookupDeps => ({
  fetch: (url, init) => fetch(url, init),
  verifyJwt: createUpstreamJwtVerifier(ISSUER, jwksUri),
  nowMs: () => virtualNow,
  sleep: async (ms) => {
    waits.push(ms);
    virtualNow += ms;
  },
});

/** Parsed as the loader does it, the Okta API token resolved from its inline value. */
const settings = (input: Record<string, unknown>): GroupSettings => {
  const parsed = upstreamGroupsSchema.parse(input);
  const okta = parsed.okta ? { ...parsed.okta, apiToken: parsed.okta.apiToken.ref } : undefined;
  return { ...parsed, okta } as GroupSettings;
};

beforeAll(async () => {
  graph = await startGraphStandIn(async (token) => (token === USER_TOKEN ? 'alice-oid' : undefined));
  okta = await startOktaStandIn();
  claimsSource = await startClaimsSourceStandIn();
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  jwks.listen(0, '127.0.0.1');
  await once(jwks, 'listening');
  jwksUri = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
});

afterAll(async () => {
  await Promise.all([graph?.close(), okta?.close(), claimsSource?.close()]);
  jwks?.close();
});

afterEach(() => {
  waits = [];
  graph.requests.length = 0;
  okta.requests.length = 0;
  claimsSource.requests.length = 0;
  graph.failWith(undefined);
  okta.failWith(undefined);
});

/** An Entra ID token on overage: no groups, a pointer to the (retired) Azure AD Graph instead. */
const entraOverage = {
  sub: 'alice-sub',
  email: 'alice@example.com',
  _claim_names: { groups: 'src1' },
  _claim_sources: { src1: { endpoint: 'https://graph.windows.net/tenant/users/alice-oid/getMemberObjects' } },
};

async function aggregatedJwt(claims: Record<string, unknown>, key = signingKey, issuer = ISSUER) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(issuer).sign(key);
}

describe('Microsoft Graph (Entra ID overage)', () => {
  const graphSettings = (groupNames: 'id' | 'displayName') =>
    settings({ from: 'microsoftGraph', microsoftGraph: { endpoint: graph.endpoint, groupNames } });

  it('Entra overage resolved through Graph as object ids', async () => {
    graph.groups.set('alice-oid', manyGraphGroups(3));
    const { claims, resolution } = await resolveUpstreamGroups(deps(), {
      settings: graphSettings('id'),
      wanted: ['sub', 'email', 'groups'],
      claims: entraOverage,
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect(claims['groups']).toEqual(manyGraphGroups(3).map((g) => g.id));
    expect(resolution.sources).toEqual(['microsoftGraph', 'microsoftGraph', 'microsoftGraph']);
    expect(claims['_claim_names']).toBeUndefined();
    expect(graph.requests[0]?.authorization).toBe(`Bearer ${USER_TOKEN}`);
    expect(graph.requests[0]?.path).toContain('$select=id,displayName');
  });

  it('Entra overage resolved through Graph as display names', async () => {
    graph.groups.set('alice-oid', manyGraphGroups(2, 'team'));
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: graphSettings('displayName'),
      wanted: ['sub', 'groups'],
      claims: { sub: 'alice-sub', hasgroups: true },
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect(claims['groups']).toEqual(['team-00001', 'team-00002']);
  });

  it('only groups are kept, read without the eventually consistent advanced query', async () => {
    graph.groups.set('alice-oid', [
      { id: 'id-dev', displayName: 'k8s-dev' },
      { id: 'id-reader', displayName: 'Global Reader', type: 'directoryRole' },
      { id: 'id-unit', displayName: 'EMEA', type: 'administrativeUnit' },
    ]);
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: settings({ from: 'microsoftGraph', microsoftGraph: { endpoint: graph.endpoint } }),
      wanted: ['groups'],
      claims: entraOverage,
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect(claims['groups']).toEqual(['id-dev']);
    expect(graph.requests).toHaveLength(1);
    expect(graph.requests[0]?.path).toMatch(/^GET \/v1\.0\/me\/transitiveMemberOf\?/);
    expect(graph.requests[0]?.consistencyLevel).toBeUndefined();
  });

  it('paging over 5,000 groups: every page followed, every group kept', async () => {
    graph.groups.set('alice-oid', manyGraphGroups(5000));
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: settings({
        from: 'microsoftGraph',
        microsoftGraph: { endpoint: graph.endpoint },
        maxGroups: 5000,
      }),
      wanted: ['sub', 'groups'],
      claims: entraOverage,
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect((claims['groups'] as string[]).length).toBe(5000);
    expect(new Set(claims['groups'] as string[]).size).toBe(5000);
    expect(graph.requests).toHaveLength(Math.ceil(5000 / 999));
  });

  it('throttled request retried after Retry-After', async () => {
    graph.groups.set('alice-oid', manyGraphGroups(1));
    graph.throttleNext(2, { 'retry-after': '3' });
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: graphSettings('id'),
      wanted: ['groups'],
      claims: entraOverage,
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect(waits).toEqual([3000, 3000]);
    expect(graph.requests).toHaveLength(3);
    expect(claims['groups']).toHaveLength(1);
  });

  it('a throttle longer than the time budget refuses the login instead of waiting', async () => {
    graph.throttleNext(1, { 'retry-after': '120' });
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: graphSettings('id'),
        wanted: ['groups'],
        claims: entraOverage,
        directSource: 'token',
        upstreamAccessToken: USER_TOKEN,
      }),
    ).rejects.toThrow(
      /groups could not be fetched from 127\.0\.0\.1:\d+: throttled.*exceeds the time budget/,
    );
    expect(waits).toEqual([]);
    graph.throttleNext(0, {});
  });

  it('Graph down: refused with a message naming Graph', async () => {
    const down = settings({
      from: 'microsoftGraph',
      microsoftGraph: { endpoint: 'http://127.0.0.1:1/v1.0' },
    });
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: down,
        wanted: ['groups'],
        claims: entraOverage,
        directSource: 'token',
        upstreamAccessToken: USER_TOKEN,
      }),
    ).rejects.toMatchObject({
      code: 'ERR_UPSTREAM',
      message: expect.stringMatching(/^groups could not be fetched from 127\.0\.0\.1:1: /),
    });
  });

  it('an expired access token: refused, saying Graph refused the token', async () => {
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: graphSettings('id'),
        wanted: ['groups'],
        claims: entraOverage,
        directSource: 'token',
        upstreamAccessToken: 'expired-token',
      }),
    ).rejects.toThrow(/Graph refused the access token/);
  });

  it.each([
    [
      'on another host is refused: the token never leaves the configured origin',
      'http://127.0.0.2:9/steal',
      /next page points at another host/,
    ],
    ['that is not a URL is refused as an upstream failure', 'http://[broken', /next page link is not a URL/],
  ])('a next page link %s', async (_name, nextLink, reason) => {
    const rogue = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          value: [{ '@odata.type': '#microsoft.graph.group', id: 'g1', displayName: 'g1' }],
          '@odata.nextLink': nextLink,
        }),
      );
    });
    rogue.listen(0, '127.0.0.1');
    await once(rogue, 'listening');
    try {
      const endpoint = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}/v1.0`;
      const failure = resolveUpstreamGroups(deps(), {
        settings: settings({ from: 'microsoftGraph', microsoftGraph: { endpoint } }),
        wanted: ['groups'],
        claims: entraOverage,
        directSource: 'token',
        upstreamAccessToken: USER_TOKEN,
      });
      await expect(failure).rejects.toThrow(reason);
      await expect(failure).rejects.toMatchObject({ code: 'ERR_UPSTREAM' });
    } finally {
      rogue.close();
    }
  });

  it('no overage: Graph is not asked and the token groups stand; when: always asks anyway', async () => {
    graph.groups.set('alice-oid', [{ id: 'graph-only', displayName: 'graph-only' }]);
    const input = {
      wanted: ['groups'],
      claims: { sub: 'alice-sub', groups: ['in-token'] },
      directSource: 'token' as const,
      upstreamAccessToken: USER_TOKEN,
    };
    const overage = await resolveUpstreamGroups(deps(), { ...input, settings: graphSettings('id') });
    expect(overage.claims['groups']).toEqual(['in-token']);
    expect(graph.requests).toHaveLength(0);
    const always = await resolveUpstreamGroups(deps(), {
      ...input,
      settings: settings({
        from: 'microsoftGraph',
        when: 'always',
        microsoftGraph: { endpoint: graph.endpoint },
      }),
    });
    expect(always.claims['groups']).toEqual(['in-token', 'graph-only']);
    expect(always.resolution.sources).toEqual(['token', 'microsoftGraph']);
  });
});

describe('Okta API', () => {
  const oktaSettings = () =>
    settings({ from: 'okta', okta: { orgURL: okta.orgURL, apiToken: okta.apiToken } });
  const groups = Array.from({ length: 250 }, (_, i) => ({ id: `00g${i}`, name: `okta-group-${i}` }));
  const tokenGroups = groups.slice(0, 100).map((g) => g.name);

  it('Okta beyond 100: a token at the limit is completed from the API, two pages', async () => {
    okta.groups.set('00u-alice', groups);
    const { claims, resolution } = await resolveUpstreamGroups(deps(), {
      settings: oktaSettings(),
      wanted: ['groups'],
      claims: { sub: '00u-alice', groups: tokenGroups },
      directSource: 'token',
    });
    expect(claims['groups']).toEqual(groups.map((g) => g.name));
    expect(resolution.sources.filter((s) => s === 'okta')).toHaveLength(150);
    expect(okta.requests).toHaveLength(2);
    expect(okta.requests[0]?.authorization).toBe(`SSWS ${okta.apiToken}`);
  });

  it('a token under the limit is trusted as complete: the API is not called', async () => {
    await resolveUpstreamGroups(deps(), {
      settings: oktaSettings(),
      wanted: ['groups'],
      claims: { sub: '00u-alice', groups: ['a'] },
      directSource: 'token',
    });
    expect(okta.requests).toHaveLength(0);
  });

  it('rate limited: waits until X-Rate-Limit-Reset, then goes on', async () => {
    okta.groups.set('00u-alice', groups.slice(0, 3));
    okta.throttleNext(1, { 'x-rate-limit-reset': String(Math.floor(virtualNow / 1000) + 7) });
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: oktaSettings(),
      wanted: ['groups'],
      claims: { sub: '00u-alice', groups: tokenGroups },
      directSource: 'token',
    });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(6000);
    expect(waits[0]).toBeLessThanOrEqual(7000);
    // The API's three groups are among the token's hundred: nothing new, nothing doubled.
    expect(claims['groups']).toHaveLength(100);
  });

  it('a revoked API token: refused with a message naming Okta', async () => {
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: settings({ from: 'okta', okta: { orgURL: okta.orgURL, apiToken: 'wrong' } }),
        wanted: ['groups'],
        claims: { sub: '00u-alice', groups: tokenGroups },
        directSource: 'token',
      }),
    ).rejects.toThrow(/Okta refused the API token/);
  });
});

describe('OIDC distributed and aggregated claims', () => {
  it('distributed claim with its own access token', async () => {
    claimsSource.claimsFor.set('source-token', { groups: ['from-source'], department: 'ops' });
    const { claims, resolution } = await resolveUpstreamGroups(deps(), {
      settings: DEFAULT_GROUP_SETTINGS,
      wanted: ['sub', 'groups', 'department'],
      claims: {
        iss: claimsSource.url,
        sub: 'alice',
        _claim_names: { groups: 'src1', department: 'src1' },
        _claim_sources: { src1: { endpoint: claimsSource.endpoint, access_token: 'source-token' } },
      },
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect(claims['groups']).toEqual(['from-source']);
    expect(claims['department']).toBe('ops');
    expect(resolution.sources).toEqual(['distributed']);
    expect(claimsSource.requests).toHaveLength(1);
    expect(claimsSource.requests[0]?.authorization).toBe('Bearer source-token');
  });

  it("a distributed source on the issuer's origin without its own token is sent the upstream access token", async () => {
    claimsSource.claimsFor.set(USER_TOKEN, { groups: ['via-upstream-token'] });
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: DEFAULT_GROUP_SETTINGS,
      wanted: ['groups'],
      claims: {
        iss: claimsSource.url,
        sub: 'alice',
        _claim_names: { groups: 's' },
        _claim_sources: { s: { endpoint: claimsSource.endpoint } },
      },
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect(claims['groups']).toEqual(['via-upstream-token']);
  });

  it("the upstream access token is never sent to a distributed endpoint off the issuer's origin", async () => {
    claimsSource.claimsFor.set(USER_TOKEN, { groups: ['system:masters'] });
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: DEFAULT_GROUP_SETTINGS,
        wanted: ['groups'],
        claims: {
          iss: ISSUER,
          sub: 'alice',
          _claim_names: { groups: 's' },
          _claim_sources: { s: { endpoint: claimsSource.endpoint } },
        },
        directSource: 'token',
        upstreamAccessToken: USER_TOKEN,
      }),
    ).rejects.toThrow(/HTTP 401/);
    expect(claimsSource.requests).toHaveLength(1);
    expect(claimsSource.requests[0]?.authorization).toBeUndefined();
  });

  it("a distributed endpoint off the issuer's origin must answer a JWT signed by the upstream", async () => {
    const source = { endpoint: claimsSource.endpoint, access_token: 'source-token' };
    const input = {
      settings: DEFAULT_GROUP_SETTINGS,
      wanted: ['groups'],
      claims: { iss: ISSUER, sub: 'alice', _claim_names: { groups: 's' }, _claim_sources: { s: source } },
      directSource: 'token' as const,
    };
    claimsSource.claimsFor.set('source-token', { groups: ['system:masters'] });
    await expect(resolveUpstreamGroups(deps(), input)).rejects.toThrow(
      /off the issuer's origin must answer a JWT signed by the upstream/,
    );
    claimsSource.claimsFor.set('source-token', await aggregatedJwt({ groups: ['signed-group'] }));
    const { claims, resolution } = await resolveUpstreamGroups(deps(), input);
    expect(claims['groups']).toEqual(['signed-group']);
    expect(resolution.sources).toEqual(['distributed']);
  });

  it('aggregated claim signed by the upstream is taken', async () => {
    const JWT = await aggregatedJwt({ groups: ['aggregated-group'] });
    const { claims, resolution } = await resolveUpstreamGroups(deps(), {
      settings: DEFAULT_GROUP_SETTINGS,
      wanted: ['groups'],
      claims: { sub: 'alice', _claim_names: { groups: 'a' }, _claim_sources: { a: { JWT } } },
      directSource: 'token',
    });
    expect(claims['groups']).toEqual(['aggregated-group']);
    expect(resolution.sources).toEqual(['aggregated']);
  });

  it.each([
    ['a bad signature', () => aggregatedJwt({ groups: ['x'] }, strangerKey)],
    ['another issuer', () => aggregatedJwt({ groups: ['x'] }, signingKey, 'https://elsewhere.example')],
  ])('aggregated claim with %s refused', async (_name, jwt) => {
    const JWT = await jwt();
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: DEFAULT_GROUP_SETTINGS,
        wanted: ['groups'],
        claims: { sub: 'alice', _claim_names: { groups: 'a' }, _claim_sources: { a: { JWT } } },
        directSource: 'token',
      }),
    ).rejects.toThrow(/did not verify with the upstream's keys/);
  });

  it('a claim naming a source that is not there is refused, not ignored', async () => {
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: DEFAULT_GROUP_SETTINGS,
        wanted: ['groups'],
        claims: { sub: 'alice', _claim_names: { groups: 'gone' }, _claim_sources: {} },
        directSource: 'token',
      }),
    ).rejects.toThrow(
      /^groups could not be fetched from the upstream's claim sources: claim groups names source "gone", which is not in _claim_sources$/,
    );
  });

  it('claims outside the allow-list are not fetched', async () => {
    await resolveUpstreamGroups(deps(), {
      settings: DEFAULT_GROUP_SETTINGS,
      wanted: ['sub'],
      claims: {
        sub: 'alice',
        _claim_names: { groups: 's' },
        _claim_sources: { s: { endpoint: claimsSource.endpoint } },
      },
      directSource: 'token',
    });
    expect(claimsSource.requests).toHaveLength(0);
  });
});

describe('provenance claim', () => {
  it('a user without groups stores no provenance, and one sent by the upstream is never kept', async () => {
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: DEFAULT_GROUP_SETTINGS,
      wanted: ['sub', 'groups'],
      claims: { sub: 'alice', kob_group_sources: 'gggg/0' },
      directSource: 'token',
    });
    expect(claims).toEqual({ sub: 'alice' });
  });

  it('token groups get provenance in the configured claim, replacing what the upstream sent', async () => {
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: { ...DEFAULT_GROUP_SETTINGS, claim: 'roles' },
      wanted: ['sub', 'roles'],
      claims: { sub: 'alice', roles: ['dev', 'ops'], kob_group_sources: 'gg/9' },
      directSource: 'token',
    });
    expect(claims['roles']).toEqual(['dev', 'ops']);
    expect(claims['kob_group_sources']).toBe('tt/0');
  });
});

describe('filter and size', () => {
  it('filter keeps the session small: 5,000 directory groups, only the k8s- ones kept', async () => {
    const all = manyGraphGroups(5000);
    for (let i = 0; i < 12; i++) all[i * 400] = { id: `k8s-id-${i}`, displayName: `k8s-team-${i}` };
    graph.groups.set('alice-oid', all);
    const { claims, resolution } = await resolveUpstreamGroups(deps(), {
      settings: settings({
        from: 'microsoftGraph',
        microsoftGraph: { endpoint: graph.endpoint, groupNames: 'displayName' },
        filter: { prefixes: ['k8s-'] },
      }),
      wanted: ['groups'],
      claims: entraOverage,
      directSource: 'token',
      upstreamAccessToken: USER_TOKEN,
    });
    expect(claims['groups']).toHaveLength(12);
    expect(resolution.dropped.count).toBe(4988);
    expect(JSON.stringify(claims).length).toBeLessThan(600);
    expect(decodeSources(claims['kob_group_sources'])).toEqual({
      sources: Array(12).fill('microsoftGraph'),
      dropped: 4988,
    });
  });

  it('pattern and allow-list widen each other', async () => {
    const { claims } = await resolveUpstreamGroups(deps(), {
      settings: settings({ filter: { pattern: '^team-[a-z]+$', allow: ['admins'] } }),
      wanted: ['groups'],
      claims: { sub: 'a', groups: ['team-a', 'team-1', 'admins', 'other'] },
      directSource: 'userinfo',
    });
    expect(claims['groups']).toEqual(['team-a', 'admins']);
    expect(claims['kob_group_sources']).toBe('uu/2');
  });

  it('more groups than maxGroups after the filter: refused, never cut', async () => {
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: settings({ maxGroups: 2 }),
        wanted: ['groups'],
        claims: { sub: 'a', groups: ['a', 'b', 'c'] },
        directSource: 'token',
      }),
    ).rejects.toThrow(/3 groups after the filter, more than groups\.maxGroups \(2\)/);
  });

  it('a groups claim from a claims source that is not a list of strings is refused, not ignored', async () => {
    const JWT = await aggregatedJwt({ groups: { admins: true } });
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: DEFAULT_GROUP_SETTINGS,
        wanted: ['groups'],
        claims: {
          sub: 'alice',
          _claim_names: { groups: 'a' },
          _claim_sources: { a: { JWT } },
        },
        directSource: 'token',
      }),
    ).rejects.toThrow(/groups claim from the claims source is not a list of strings/);
  });

  it('a directory group name over 1,024 characters is refused', async () => {
    graph.groups.set('alice-oid', [{ id: 'x'.repeat(1025), displayName: 'huge' }]);
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: settings({ from: 'microsoftGraph', microsoftGraph: { endpoint: graph.endpoint } }),
        wanted: ['groups'],
        claims: entraOverage,
        directSource: 'token',
        upstreamAccessToken: USER_TOKEN,
      }),
    ).rejects.toThrow(/a group name is longer than 1024 characters/);
  });

  it('a response over the size cap is refused', async () => {
    claimsSource.claimsFor.set('huge', { groups: Array.from({ length: 300_000 }, (_, i) => `group-${i}`) });
    await expect(
      resolveUpstreamGroups(deps(), {
        settings: DEFAULT_GROUP_SETTINGS,
        wanted: ['groups'],
        claims: {
          sub: 'a',
          _claim_names: { groups: 's' },
          _claim_sources: { s: { endpoint: claimsSource.endpoint, access_token: 'huge' } },
        },
        directSource: 'token',
      }),
    ).rejects.toThrow(/larger than 4194304 bytes/);
  });
});

describe('configuration', () => {
  it.each([
    [{ from: 'okta' }, 'okta', 'required when from is okta'],
    [{ filter: {} }, 'filter', 'give at least one of prefixes, pattern or allow'],
    [{ filter: { pattern: '(' } }, 'filter.pattern', 'not a valid regular expression'],
    [{ maxGroups: 6000 }, 'maxGroups', ''],
  ])('%j is refused at %s', (input, path, message) => {
    const result = upstreamGroupsSchema.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(issue?.path.join('.')).toBe(path);
    if (message) expect(issue?.message).toBe(message);
  });
});
