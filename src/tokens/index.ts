export {
  type AccessTokenLookup,
  type CreateSessionInput,
  type IssuedCredential,
  type RefreshInspection,
  type RefreshRedemption,
  TokenService,
  type TokenServiceOptions,
} from './token-service.js';
