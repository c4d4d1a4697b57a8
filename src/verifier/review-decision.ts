import type { MappingSet } from '../mapping/index.js';
import { type AccessDecisionDeps, type AccessDecisionResult, decideAccessToken } from '../tokens/index.js';
import type { IdentityMemo } from './identity-memo.js';
import type { TokenReviewRequest, TokenReviewStatus } from './token-review.js';

/** How a review ended; also the `result` label of the review metrics and the audit line. */
export type ReviewResult = AccessDecisionResult;

export interface ReviewDecision {
  result: ReviewResult;
  status: TokenReviewStatus;
  sessionId?: string;
  username?: string;
  /** Why it was denied, for the log (never contains the token). */
  reason?: string;
}

const DENIED: TokenReviewStatus = { authenticated: false };

/** TokenService.lookupAccessToken: one store read; throws StoreUnavailableError when the store fails. */
export type AccessTokenLookup = AccessDecisionDeps['lookupAccessToken'];

export interface ReviewDeps {
  lookupAccessToken: AccessTokenLookup;
  mapping: MappingSet;
  /** The verifier's configured audiences: used when the request names none. */
  audiences: readonly string[];
  /** True while a data loss of the store is recent enough that tokens issued before it could still be live. */
  storeRecentlyLost?: () => boolean | Promise<boolean>;
  /** Remembers mapped identities (per rule set), so the rules run once per identity, not per review. */
  memo?: IdentityMemo;
}

/**
 * The review's answer for the shared decision on an access token (src/tokens, also behind the
 * issuer's userinfo and the proxy): the guard ladder lives there; here only what the apiserver is
 * told. Denials that must not be cached as a revocation (`store_lost`, a rule that failed to
 * evaluate) carry `error`. Only a store failure throws (StoreUnavailableError), which the server
 * turns into a retryable 5xx — never `authenticated: true`, never a cacheable denial.
 */
export async function decideTokenReview(
  review: TokenReviewRequest,
  deps: ReviewDeps,
): Promise<ReviewDecision> {
  const decision = await decideAccessToken(review.token, review.audiences, deps);
  if (decision.result === 'authenticated') {
    return {
      result: 'authenticated',
      status: { authenticated: true, user: decision.user, audiences: decision.audiences },
      sessionId: decision.record.sessionId,
      username: decision.user.username,
    };
  }
  const uncached = decision.result === 'store_lost' || decision.result === 'error';
  return {
    result: decision.result,
    status: uncached ? { authenticated: false, error: decision.reason } : DENIED,
    reason: decision.reason,
    sessionId: decision.record?.sessionId,
    username: decision.record?.username,
  };
}
