import type { TokenEndpointResponse } from 'openid-client';
import { BridgeError } from '../../core/errors.js';

/** What a successful grant yields: an access token for one audience, maybe a (rotated) refresh token. */
export interface TokenSet {
  accessToken: string;
  /** Epoch seconds. */
  expiresAt: number;
  refreshToken?: string;
}

/** Turns a token endpoint response into a TokenSet; `now` in epoch seconds. */
export function toTokenSet(response: TokenEndpointResponse, now: number): TokenSet {
  if (typeof response.expires_in !== 'number' || response.expires_in <= 0) {
    throw new BridgeError('ERR_OAUTH', 'the issuer returned a token without expires_in');
  }
  return {
    accessToken: response.access_token,
    expiresAt: now + response.expires_in,
    refreshToken: response.refresh_token,
  };
}

/** Parameters naming the cluster a token is for (`audience`), when the user chose one. */
export function audienceParameters(audience: string | undefined): Record<string, string> {
  return audience ? { audience } : {};
}
