import type { TokenEndpointResponse } from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import { isAcceptableToken, MAX_TOKEN_LENGTH } from './bearer-token.js';

/** What a successful grant yields: an access token for one audience, maybe a (rotated) refresh token. */
export interface TokenSet {
  accessToken: string;
  /** Epoch seconds. */
  expiresAt: number;
  refreshToken?: string;
}

function checkToken(token: unknown, what: string): string {
  if (typeof token === 'string' && token.length > MAX_TOKEN_LENGTH) {
    throw new BridgeError(
      'ERR_OAUTH',
      `the issuer returned an ${what} of ${token.length} bytes (more than ${MAX_TOKEN_LENGTH}); refusing it`,
    );
  }
  if (!isAcceptableToken(token)) {
    throw new BridgeError('ERR_OAUTH', `the issuer returned an ${what} that is not a valid Bearer token`);
  }
  return token;
}

/** Turns a token endpoint response into a TokenSet; `now` in epoch seconds. */
export function toTokenSet(response: TokenEndpointResponse, now: number): TokenSet {
  if (typeof response.expires_in !== 'number' || response.expires_in <= 0) {
    throw new BridgeError('ERR_OAUTH', 'the issuer returned a token without expires_in');
  }
  return {
    accessToken: checkToken(response.access_token, 'access token'),
    expiresAt: now + response.expires_in,
    refreshToken:
      response.refresh_token === undefined ? undefined : checkToken(response.refresh_token, 'refresh token'),
  };
}

/** Parameters naming the cluster a token is for (`audience`), when the user chose one. */
export function audienceParameters(audience: string | undefined): Record<string, string> {
  return audience ? { audience } : {};
}
