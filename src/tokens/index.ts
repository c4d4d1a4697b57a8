export {
  type AccessTokenLookup,
  type CreateSessionInput,
  type IssuedCredential,
  type RefreshRedemption,
  TokenService,
  type TokenServiceOptions,
} from './token-service.js';
