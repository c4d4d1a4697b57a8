export { isSubjectAllowed, readClientIdentity } from './client-certificate.js';
export { IdentityMemo } from './identity-memo.js';
export {
  type AccessTokenLookup,
  decideTokenReview,
  type ReviewDecision,
  type ReviewResult,
} from './review-decision.js';
export { startVerifier, type VerifierDeps } from './server.js';
export {
  parseTokenReview,
  serializeTokenReview,
  TOKEN_REVIEW_VERSIONS,
  type TokenReviewRequest,
  type TokenReviewStatus,
  type TokenReviewVersion,
} from './token-review.js';
