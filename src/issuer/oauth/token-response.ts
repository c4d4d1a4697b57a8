import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import type { SessionRecord } from '../../store/index.js';
import type { OAuthDeps } from './deps.js';
import { sendOAuthJson } from './oauth-error.js';

/**
 * A successful token response (RFC 6749 §5.1): an access token for exactly one audience (a token for
 * one cluster must not pass at another) and a new refresh token for the same session. The refresh
 * token's audiences are every cluster this grant has been used for: informational, since any
 * configured cluster may be asked for on refresh (one login, several clusters).
 */
export async function issueTokenResponse(
  ctx: Koa.Context,
  deps: OAuthDeps,
  session: SessionRecord,
  audience: string,
  grantAudiences: readonly string[],
  grant: 'authorization_code' | 'refresh_token' | 'device_code',
): Promise<void> {
  const now = deps.clock.now();
  const access = await deps.tokens.issueAccessToken(session, [audience]);
  const audiences = [...new Set([...grantAudiences, audience])];
  const refresh = await deps.tokens.issueRefreshToken(session, deps.issuer.cli.clientID, audiences);
  deps.metrics.mints.inc({ source: 'cli' });
  audit(deps.logger, 'mint', {
    source: 'cli',
    grant,
    sessionId: session.id,
    username: session.username,
    audience,
    expiresAt: access.expiresAt,
  });
  sendOAuthJson(ctx, {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: Math.max(1, access.expiresAt - now),
    refresh_token: refresh.token,
  });
}
