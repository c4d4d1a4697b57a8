import * as oidc from 'openid-client';
import type { CacheEntry } from './token-cache.js';

/**
 * RFC 7009 revocation of everything a cache entry holds. Revoking the refresh token ends the session
 * at the issuer, which kills its access tokens for every cluster; access tokens are revoked too, in
 * case some came from an earlier session.
 */
export async function revokeAtIssuer(config: oidc.Configuration, entry: CacheEntry): Promise<void> {
  if (entry.refreshToken) {
    await oidc.tokenRevocation(config, entry.refreshToken, { token_type_hint: 'refresh_token' });
  }
  const accessTokens = new Set(Object.values(entry.tokens).map((t) => t.accessToken));
  for (const token of accessTokens) {
    await oidc.tokenRevocation(config, token, { token_type_hint: 'access_token' });
  }
}
