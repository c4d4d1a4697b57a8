import * as oidc from 'openid-client';
import { oauthErrorCode, toPluginError } from './issuer-connection.js';
import { audienceParameters, type TokenSet, toTokenSet } from './token-set.js';

/**
 * The silent path: a refresh_token grant for the wanted audience. The issuer rotates the refresh token
 * on every use and may refuse it (expired, revoked, upstream said no, session too old): that is an
 * expected outcome (`rejected`), after which the user logs in again. Transport failures throw.
 */
export async function refreshTokens(
  config: oidc.Configuration,
  refreshToken: string,
  audience: string | undefined,
  now: () => number,
): Promise<{ status: 'ok'; tokens: TokenSet } | { status: 'rejected'; reason: string }> {
  try {
    const response = await oidc.refreshTokenGrant(config, refreshToken, audienceParameters(audience));
    return { status: 'ok', tokens: toTokenSet(response, now()) };
  } catch (err) {
    const code = oauthErrorCode(err);
    if (code === 'invalid_grant') return { status: 'rejected', reason: code };
    throw toPluginError(err, 'refreshing the token failed');
  }
}
