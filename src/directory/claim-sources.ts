import type { Claims } from '../core/identity.js';
import { getHonouringThrottle, type LookupBudget, lookupFailed, parseJsonObject } from './directory-fetch.js';

/** Verifies a JWT signed by the upstream (its keys, its issuer) and returns the payload. */
export type UpstreamJwtVerifier = (jwt: string) => Promise<Record<string, unknown>>;

export interface ClaimSourceDeps {
  budget: LookupBudget;
  verifyJwt: UpstreamJwtVerifier;
  /** The upstream access token, sent to a distributed source on the issuer's origin that names no token of its own. */
  upstreamAccessToken?: string | undefined;
  /** The upstream's issuer: a distributed endpoint on its origin is trusted as much as userinfo. */
  issuer?: string | undefined;
}

/** A claim found through `_claim_sources`, and how. */
export interface SourcedClaim {
  name: string;
  value: unknown;
  via: 'distributed' | 'aggregated';
}

const CLAIM_SOURCES = "the upstream's claim sources";
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Resolves the `wanted` claims that the upstream gave by reference (OpenID Connect Core §5.6.2):
 * `_claim_names` maps a claim to a source; an aggregated source carries a JWT signed by the upstream,
 * a distributed one an `endpoint` (and maybe an `access_token`) to fetch it from. A claim the token
 * carries itself is left alone. Each source is read once. Any failure throws — a login never goes on
 * with a claim silently missing.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AggregatedDistributedClaims
 */
export async function resolveClaimSources(
  deps: ClaimSourceDeps,
  claims: Claims,
  wanted: readonly string[],
): Promise<SourcedClaim[]> {
  const names = record(claims['_claim_names']);
  const sources = record(claims['_claim_sources']);
  if (!names) return [];
  const payloads = new Map<string, Promise<{ payload: Record<string, unknown>; via: SourcedClaim['via'] }>>();
  const found: SourcedClaim[] = [];
  for (const name of wanted) {
    const sourceName = names[name];
    if (typeof sourceName !== 'string' || claims[name] !== undefined) continue;
    const source = record(sources?.[sourceName]);
    if (!source)
      throw lookupFailed(
        CLAIM_SOURCES,
        `claim ${name} names source "${sourceName}", which is not in _claim_sources`,
      );
    let pending = payloads.get(sourceName);
    if (!pending) {
      pending = readSource(deps, sourceName, source);
      payloads.set(sourceName, pending);
    }
    const { payload, via } = await pending;
    if (payload[name] === undefined) {
      const where = typeof source['endpoint'] === 'string' ? source['endpoint'] : 'an aggregated claim';
      throw lookupFailed(where, `the claims source "${sourceName}" did not return the claim ${name}`);
    }
    found.push({ name, value: payload[name], via });
  }
  return found;
}

async function readSource(
  deps: ClaimSourceDeps,
  sourceName: string,
  source: Record<string, unknown>,
): Promise<{ payload: Record<string, unknown>; via: SourcedClaim['via'] }> {
  if (typeof source['JWT'] === 'string') {
    return { payload: await verified(deps, 'an aggregated claim', source['JWT']), via: 'aggregated' };
  }
  const endpoint = source['endpoint'];
  if (typeof endpoint !== 'string') {
    throw lookupFailed(CLAIM_SOURCES, `the claims source "${sourceName}" has neither JWT nor endpoint`);
  }
  // The endpoint is named by the upstream, but the user's access token and unsigned answers are
  // trusted only from the issuer's own origin (as userinfo is): anywhere else a source must bring its
  // own access_token, and its answer must be a JWT signed with the upstream's keys.
  const onIssuerOrigin = sameOrigin(endpoint, deps.issuer);
  const ownToken = typeof source['access_token'] === 'string' ? source['access_token'] : undefined;
  const token = ownToken ?? (onIssuerOrigin ? deps.upstreamAccessToken : undefined);
  const response = await getHonouringThrottle(deps.budget, endpoint, {
    accept: 'application/jwt, application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  if (response.status !== 200) throw lookupFailed(endpoint, `HTTP ${response.status}`);
  const body = response.body.trim();
  if (JWT_SHAPE.test(body)) return { payload: await verified(deps, endpoint, body), via: 'distributed' };
  if (!onIssuerOrigin) {
    throw lookupFailed(
      endpoint,
      "a claims endpoint off the issuer's origin must answer a JWT signed by the upstream",
    );
  }
  const payload = parseJsonObject(endpoint, body);
  return { payload, via: 'distributed' };
}

async function verified(deps: ClaimSourceDeps, where: string, jwt: string): Promise<Record<string, unknown>> {
  try {
    return await deps.verifyJwt(jwt);
  } catch (err) {
    throw lookupFailed(
      where,
      `the claims JWT did not verify with the upstream's keys (${(err as Error).message})`,
      err,
    );
  }
}

function sameOrigin(url: string, issuer: string | undefined): boolean {
  if (issuer === undefined) return false;
  try {
    return new URL(url).origin === new URL(issuer).origin;
  } catch {
    return false;
  }
}
