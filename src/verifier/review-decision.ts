import type { MappingOutcome, MappingSet } from '../mapping/index.js';
import type { AccessTokenRecord } from '../store/index.js';
import type { IdentityMemo } from './identity-memo.js';
import type { TokenReviewRequest, TokenReviewStatus } from './token-review.js';

/** How a review ended; also the `result` label of the review metrics and the audit line. */
export type ReviewResult =
  | 'authenticated'
  /** Empty, contains a space, or not shaped like one of our access tokens (checksum included). */
  | 'malformed'
  /** Never issued, or revoked (revocation deletes the record). */
  | 'unknown'
  /**
   * Not found, but the store lost its data recently (its generation marker vanished): the token may
   * have been valid. Denied with `error`, so the apiserver does not cache it as a revocation.
   */
  | 'store_lost'
  | 'expired'
  /** Issued for audiences this request does not ask for (another cluster's token). */
  | 'audience'
  /** A validation rule or the `system:` guard refused the identity. */
  | 'rule'
  /** A rule failed to evaluate: denied with `error`, so the apiserver does not cache it. */
  | 'error';

export interface ReviewDecision {
  result: ReviewResult;
  status: TokenReviewStatus;
  sessionId?: string;
  username?: string;
  /** Why it was denied, for the log (never contains the token). */
  reason?: string;
}

/** TokenService.lookupAccessToken: one store read; throws StoreUnavailableError when the store fails. */
export type AccessTokenLookup = (
  token: string,
) => Promise<
  | { status: 'valid'; record: AccessTokenRecord }
  | { status: 'malformed' }
  | { status: 'unknown' }
  | { status: 'expired' }
>;

export interface ReviewDeps {
  lookupAccessToken: AccessTokenLookup;
  mapping: MappingSet;
  /** The verifier's configured audiences: used when the request names none. */
  audiences: readonly string[];
  /** True while a data loss of the store is recent enough that tokens issued before it could still be live. */
  storeRecentlyLost?: () => boolean;
  /** Remembers mapped identities (per rule set), so the rules run once per identity, not per review. */
  memo?: IdentityMemo;
}

const STORE_LOST =
  'token not found: the token store lost its data recently (see the verifier log); log in again';

const DENIED: TokenReviewStatus = { authenticated: false };

function deny(result: ReviewResult, reason: string, record?: AccessTokenRecord): ReviewDecision {
  return { result, status: DENIED, reason, sessionId: record?.sessionId, username: record?.username };
}

/**
 * `spec.audiences ∩ token audiences`, or, when the request names none, the verifier's own audiences
 * ∩ token audiences. The apiserver intersects `status.audiences` with its own again, so what we
 * return must be exactly what the token is good for here.
 */
export function intersectAudiences(
  tokenAudiences: readonly string[],
  requested: readonly string[],
  configured: readonly string[],
): string[] {
  const wanted = requested.length > 0 ? requested : configured;
  return wanted.filter((a, i) => tokenAudiences.includes(a) && wanted.indexOf(a) === i);
}

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
 * The guard ladder: each step either denies with a precise result or lets the review through to the
 * next. Expected outcomes are values; only a store failure throws (StoreUnavailableError), which the
 * server turns into a retryable 5xx — never `authenticated: true`, never a cacheable denial.
 */
export async function decideTokenReview(
  review: TokenReviewRequest,
  deps: ReviewDeps,
): Promise<ReviewDecision> {
  const token = review.token;
  if (token === '') return deny('malformed', 'empty token');
  // The apiserver splits the Authorization header at the first space: a token with one was mangled.
  if (token.includes(' ')) return deny('malformed', 'token contains a space');

  const found = await deps.lookupAccessToken(token);
  if (found.status === 'malformed') return deny('malformed', 'not a well-formed access token');
  if (found.status === 'unknown') {
    if (deps.storeRecentlyLost?.()) {
      // Not a revocation: do not let the apiserver cache a denial of what may be a live login.
      return { ...deny('store_lost', STORE_LOST), status: { authenticated: false, error: STORE_LOST } };
    }
    return deny('unknown', 'token unknown or revoked');
  }
  if (found.status === 'expired') return deny('expired', 'token expired');
  const record = found.record;

  const audiences = intersectAudiences(record.audiences, review.audiences, deps.audiences);
  if (audiences.length === 0) return deny('audience', 'token not valid for the requested audiences', record);

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
    if (outcome.evaluationError) {
      // Not cached by the apiserver: a fixed rule or claim gets a fresh answer on the next request.
      return { ...deny('error', reason, record), status: { authenticated: false, error: reason } };
    }
    return deny('rule', reason, record);
  }
  return {
    result: 'authenticated',
    status: { authenticated: true, user: outcome.user, audiences },
    sessionId: record.sessionId,
    username: outcome.user.username,
  };
}
