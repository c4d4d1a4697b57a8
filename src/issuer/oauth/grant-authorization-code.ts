import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import { createCliSession } from '../models/granted-login.js';
import { type AuthorizationCodeRecord, authorizationCodeKey } from './authorization-code.js';
import type { OAuthDeps } from './deps.js';
import { sendOAuthError } from './oauth-error.js';
import { verifyS256 } from './pkce.js';
import { issueTokenResponse } from './token-response.js';

/**
 * How long a redeemed code is remembered: a second use within this window revokes the session its
 * first use created (RFC 6749 §4.1.2: the code was intercepted, or the client is broken).
 */
const REDEEMED_CODE_MEMORY_SECONDS = 600;

function redeemedCodeKey(codeKey: string): string {
  return `redeemed:${codeKey}`;
}

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3 with RFC 7636 §4.6): the code is taken from the
 * store (a second use finds nothing but the redeemed marker, and revokes what the first use issued),
 * then client, redirect URI and PKCE verifier must all match what the authorization request bound to
 * it. Only then does the login become a session.
 */
export async function grantAuthorizationCode(
  ctx: Koa.Context,
  deps: OAuthDeps,
  params: URLSearchParams,
  clientId: string,
): Promise<void> {
  const code = params.get('code');
  const verifier = params.get('code_verifier');
  if (!code || !verifier)
    return sendOAuthError(ctx, 'invalid_request', 'code and code_verifier are required');
  const codeKey = authorizationCodeKey(code);
  const record = await deps.store.takeEphemeral<AuthorizationCodeRecord>('code', codeKey);
  if (!record) {
    const redeemed = await deps.store.takeEphemeral<{ sessionId: string }>('code', redeemedCodeKey(codeKey));
    if (redeemed) {
      const revoked = await deps.tokens.revokeSession(redeemed.sessionId);
      if (revoked) deps.metrics.revocations.inc({ scope: 'session' });
      audit(deps.logger, 'revoke', {
        reason: 'authorization_code_reuse',
        sessionId: redeemed.sessionId,
        revoked,
      });
    }
    return sendOAuthError(ctx, 'invalid_grant', 'authorization code unknown, used or expired');
  }
  if (record.clientId !== clientId)
    return sendOAuthError(ctx, 'invalid_grant', 'code issued to another client');
  if (params.get('redirect_uri') !== record.redirectUri) {
    return sendOAuthError(ctx, 'invalid_grant', 'redirect_uri does not match the authorization request');
  }
  if (!verifyS256(verifier, record.codeChallenge)) {
    audit(deps.logger, 'login', { source: 'cli', result: 'pkce_mismatch', username: record.login.username });
    return sendOAuthError(ctx, 'invalid_grant', 'PKCE verification failed');
  }
  const asked = params.getAll('audience');
  if (asked.length > 0 && (asked.length > 1 || asked[0] !== record.audience)) {
    return sendOAuthError(ctx, 'invalid_target', 'audience differs from the authorization request');
  }
  const session = await createCliSession(deps.tokens, record.login);
  await deps.store.putEphemeral(
    'code',
    redeemedCodeKey(codeKey),
    { sessionId: session.id },
    REDEEMED_CODE_MEMORY_SECONDS,
  );
  audit(deps.logger, 'login', {
    source: 'cli',
    result: 'success',
    sessionId: session.id,
    username: session.username,
    upstream: record.login.upstream,
  });
  await issueTokenResponse(ctx, deps, session, record.audience, [record.audience], 'authorization_code');
}
