import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import type { SessionRecord } from '../../store/index.js';
import { chooseAudience } from './audience.js';
import type { OAuthDeps } from './deps.js';
import { sendOAuthError } from './oauth-error.js';
import { issueTokenResponse } from './token-response.js';

/**
 * `grant_type=refresh_token` (RFC 6749 §6). TokenService does the rotation bookkeeping: every use marks
 * the token used; a second use within `tokens.refreshReuseGrace` still succeeds (kubectl processes
 * refreshing together, dex#1976); a use after that revokes the whole session (RFC 9700 §4.14.2).
 *
 * When the session holds an upstream refresh token, the user is re-checked at the IdP first: a refusal
 * (account disabled, rules now say no) ends the session; fresh claims (changed groups) are stored so
 * the next tokens carry them. A grace reuse skips the re-check: its twin request already did it.
 *
 * Multi-cluster: `audience` may name any configured cluster, not only the one of the first login. The
 * issuer is trusted by all its clusters and the person is the same, so a second cluster costs a
 * refresh, not another browser trip. The access token is still for that one audience only.
 */
export async function grantRefreshToken(
  ctx: Koa.Context,
  deps: OAuthDeps,
  params: URLSearchParams,
  clientId: string,
): Promise<void> {
  const token = params.get('refresh_token');
  if (!token) return sendOAuthError(ctx, 400, 'invalid_request', 'refresh_token is required');
  const redeemed = await deps.tokens.redeemRefreshToken(token, clientId);
  if (redeemed.status === 'invalid') {
    deps.metrics.refreshes.inc({ result: redeemed.reason === 'expired' ? 'expired' : 'unknown' });
    return sendOAuthError(ctx, 400, 'invalid_grant', 'refresh token is not valid');
  }
  if (redeemed.status === 'reuse_detected') {
    deps.metrics.refreshes.inc({ result: 'reuse_revoked' });
    deps.metrics.revocations.inc({ scope: 'session' });
    audit(deps.logger, 'revoke', { reason: 'refresh_token_reuse', sessionId: redeemed.sessionId });
    return sendOAuthError(
      ctx,
      400,
      'invalid_grant',
      'refresh token was already used; the session is revoked',
    );
  }
  const { record, graceReuse } = redeemed;
  const audience = chooseAudience(deps.issuer, params, record.audiences[0]);
  if (!audience.ok) return sendOAuthError(ctx, 400, 'invalid_target', audience.description);

  let session: SessionRecord = redeemed.session;
  if (session.upstreamRefreshToken && session.identity.kind === 'claims' && !graceReuse) {
    const upstream = session.identity.upstream;
    const checked = await deps.refreshUpstream(upstream, session.upstreamRefreshToken, {
      subject: session.subject,
    });
    if (checked.status === 'refused') {
      await deps.tokens.revokeSession(session.id);
      deps.metrics.refreshes.inc({ result: 'upstream_refused' });
      deps.metrics.revocations.inc({ scope: 'session' });
      audit(deps.logger, 'refresh', {
        result: 'upstream_refused',
        sessionId: session.id,
        username: session.username,
        reason: checked.reason,
      });
      return sendOAuthError(ctx, 400, 'invalid_grant', 'the identity provider no longer accepts this login');
    }
    session = {
      ...session,
      identity: { ...session.identity, claims: checked.claims },
      username: checked.user.username,
      upstreamRefreshToken: checked.upstreamRefreshToken ?? session.upstreamRefreshToken,
    };
    await deps.tokens.updateSession(session);
  }
  deps.metrics.refreshes.inc({ result: graceReuse ? 'reuse_grace' : 'success' });
  audit(deps.logger, 'refresh', {
    result: graceReuse ? 'reuse_grace' : 'success',
    sessionId: session.id,
    username: session.username,
    audience: audience.audience,
  });
  await issueTokenResponse(ctx, deps, session, audience.audience, record.audiences, 'refresh_token');
}
