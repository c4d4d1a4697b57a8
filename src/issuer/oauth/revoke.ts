import type { Router } from '@koa/router';
import { audit } from '../../core/logger.js';
import { isWellFormedCredential } from '../../core/token-format.js';
import type { IssuerContext } from '../issuer-context.js';
import { OAUTH_PATHS } from './issuer-identifier.js';
import { noStore, sendOAuthError } from './oauth-error.js';
import { readOAuthForm, requestClientId } from './request-params.js';

/**
 * Token revocation (RFC 7009). Revoking either an access or a refresh token ends the whole session
 * (the grant, §2.1), so `logout` leaves nothing usable behind. The answer is 200 whether or not the
 * token was known (§2.2): the endpoint must not tell a caller which tokens exist. `token_type_hint` is
 * not needed: the prefixes tell the kinds apart.
 */
export function registerRevoke(router: Router, deps: IssuerContext): void {
  router.post(OAUTH_PATHS.revoke, async (ctx) => {
    const form = await readOAuthForm(ctx);
    if (!form.ok) return sendOAuthError(ctx, 'invalid_request', form.description);
    if (requestClientId(ctx, form.params) !== deps.issuer.cli.clientID) {
      return sendOAuthError(ctx, 'invalid_client', 'unknown client');
    }
    const token = form.params.get('token');
    if (!token) return sendOAuthError(ctx, 'invalid_request', 'token is required');
    const session = isWellFormedCredential(token, 'refresh')
      ? await deps.tokens.revokeRefreshToken(token)
      : isWellFormedCredential(token, 'access')
        ? await deps.tokens.revokeAccessToken(token)
        : undefined;
    if (session) {
      deps.metrics.revocations.inc({ scope: 'session' });
      audit(deps.logger, 'revoke', { source: 'cli', sessionId: session.id, username: session.username });
    }
    noStore(ctx);
    ctx.status = 200;
    ctx.body = '';
  });
}
