export {
  type AccessDecision,
  type AccessDecisionDeps,
  type AccessDecisionResult,
  decideAccessToken,
  intersectAudiences,
} from './access-decision.js';
export {
  type AccessTokenLookup,
  type CreateSessionInput,
  type IssuedCredential,
  type RefreshInspection,
  type RefreshRedemption,
  TokenService,
  type TokenServiceOptions,
} from './token-service.js';
