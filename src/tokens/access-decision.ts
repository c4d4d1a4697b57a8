import type { UserInfo } from '../core/identity.js';
import type { MappingOutcome, MappingSet } from '../mapping/index.js';
import type { AccessTokenRecord } from '../store/index.js';
import type { AccessTokenLookup } from './token-service.js';

/** How a decision on an access token ended; the verifier's review `result` label uses the same words. */
export type AccessDecisionResult =
  | 'authenticated'
  /** Empty, contains a space, or not shaped like one of our access tokens (checksum included). */
  | 'malformed'
  /** Never issued, revoked, or expired long ago (the store dropped it). */
  | 'unknown'
  /**
   * Not found, but the store lost its data recently (its generation marker vanished): the token may
   * have been valid, so this is no revocation.
   */
  | 'store_lost'
  | 'expired'
  /** Issued for audiences this request does not ask for (another cluster's token). */
  | 'audience'
  /** A validation rule or the `system:` guard refused the identity. */
  | 'rule'
  /** A rule failed to evaluate. */
  | 'error';

export type AccessDecision =
  | {
      result: 'authenticated';
      user: UserInfo;
      /** What the token is good for here: requested (or configured) ∩ the token's audiences. */
      audiences: string[];
      record: AccessTokenRecord;
    }
  | {
      result: Exclude<AccessDecisionResult, 'authenticated'>;
      /** Why, for the log (never contains the token). */
      reason: string;
      record?: AccessTokenRecord;
    };

/** Remembers mapped identities per rule set, so the rules run once per identity, not per decision. */
export interface IdentityMappingCache {
  map(
    identity: AccessTokenRecord['identity'],
    mapping: MappingSet,
    compute: () => MappingOutcome,
  ): MappingOutcome;
}

export interface AccessDecisionDeps {
  lookupAccessToken(token: string): Promise<AccessTokenLookup>;
  mapping: MappingSet;
  /** Audiences to check against when the request names none. */
  audiences: readonly string[];
  /**
   * True while a data loss of the store is recent enough that tokens issued before it could still be
   * live. Asked only when a token is unknown; may ask the store first (a rejection is a store failure).
   */
  storeRecentlyLost?: () => boolean | Promise<boolean>;
  memo?: IdentityMappingCache;
}

/**
 * `requested ∩ token audiences`, or, when the request names none, the configured audiences ∩ token
 * audiences (an apiserver intersects `status.audiences` with its own again).
 */
export function intersectAudiences(
  tokenAudiences: readonly string[],
  requested: readonly string[],
  configured: readonly string[],
): string[] {
  const wanted = requested.length > 0 ? requested : configured;
  return wanted.filter((a, i) => tokenAudiences.includes(a) && wanted.indexOf(a) === i);
}

/** The reason given for `store_lost`; safe to show the apiserver (it logs `status.error`). */
export const STORE_LOST =
  'token not found: the token store lost its data recently (see the server log); log in again';

function mapIdentity(record: AccessTokenRecord, mapping: MappingSet): MappingOutcome {
  const identity = record.identity;
  if (identity.kind === 'static') {
    // Minted by an admin as written: only userValidationRules and the system: guard apply.
    return mapping.forUpstream().checkUser(identity.user, { allowSystem: identity.allowSystem === true });
  }
  // Admin-minted claims without --upstream carry '' and use the top-level rules.
  return mapping.forUpstream(identity.upstream || undefined).mapClaims(identity.claims);
}

/**
 * The decision on one of our access tokens, shared by every face that accepts one (the verifier's
 * TokenReview, the issuer's userinfo): a ladder of guards, each denying with a precise result.
 * Expected outcomes are values; only a store failure throws (StoreUnavailableError).
 */
export async function decideAccessToken(
  token: string,
  requestedAudiences: readonly string[],
  deps: AccessDecisionDeps,
): Promise<AccessDecision> {
  if (token === '') return { result: 'malformed', reason: 'empty token' };
  // An apiserver splits the Authorization header at the first space: a token with one was mangled.
  if (token.includes(' ')) return { result: 'malformed', reason: 'token contains a space' };

  const found = await deps.lookupAccessToken(token);
  if (found.status === 'malformed') return { result: 'malformed', reason: 'not a well-formed access token' };
  if (found.status === 'unknown') {
    if (await deps.storeRecentlyLost?.()) return { result: 'store_lost', reason: STORE_LOST };
    return { result: 'unknown', reason: 'token unknown or revoked' };
  }
  if (found.status === 'expired') return { result: 'expired', reason: 'token expired' };
  const record = found.record;

  const audiences = intersectAudiences(record.audiences, requestedAudiences, deps.audiences);
  if (audiences.length === 0) {
    return { result: 'audience', reason: 'token not valid for the requested audiences', record };
  }
  let outcome: MappingOutcome;
  try {
    outcome = deps.memo
      ? deps.memo.map(record.identity, deps.mapping, () => mapIdentity(record, deps.mapping))
      : mapIdentity(record, deps.mapping);
  } catch (err) {
    outcome = { ok: false, rule: 'mapping', reason: (err as Error).message, evaluationError: true };
  }
  if (!outcome.ok) {
    const reason = `${outcome.rule}: ${outcome.reason}`;
    return { result: outcome.evaluationError ? 'error' : 'rule', reason, record };
  }
  return { result: 'authenticated', user: outcome.user, audiences, record };
}
