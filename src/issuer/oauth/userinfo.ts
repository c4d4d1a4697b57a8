import type { Router } from '@koa/router';
import type Koa from 'koa';
import { decideAccessToken } from '../../tokens/index.js';
import type { IssuerContext } from '../issuer-context.js';
import { OAUTH_PATHS } from './issuer-identifier.js';
import { sendOAuthError, sendOAuthJson } from './oauth-error.js';

/**
 * The userinfo endpoint, for `kube-oidc-bridge whoami`: presents the Bearer access token and gets the
 * identity the verifier would report for it (the shared decision of tokens/access-decision.ts, same
 * mapping rules), plus the
 * token's audiences and expiry. An invalid token gets 401 with an RFC 6750 §3 challenge.
 */
function bearer(ctx: Koa.Context): string | undefined {
  const header = ctx.get('authorization');
  return /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
}

function challenge(ctx: Koa.Context, description: string): void {
  ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`);
  sendOAuthError(ctx, 'invalid_token', description);
}

export function registerUserinfo(router: Router, deps: IssuerContext): void {
  const handler = async (ctx: Koa.Context) => {
    const token = bearer(ctx);
    if (!token) return challenge(ctx, 'a Bearer access token is required');
    const decision = await decideAccessToken(token, [], {
      lookupAccessToken: (t) => deps.tokens.lookupAccessToken(t),
      mapping: deps.mapping,
      audiences: deps.issuer.clusters.map((c) => c.audience),
    });
    if (decision.result !== 'authenticated') return challenge(ctx, `token not accepted (${decision.result})`);
    const { record } = decision;
    const user = decision.user;
    sendOAuthJson(ctx, {
      sub: user.uid ?? user.username,
      username: user.username,
      ...(user.uid !== undefined && { uid: user.uid }),
      groups: user.groups,
      extra: user.extra,
      audiences: record.audiences,
      expires_at: record.expiresAt,
    });
  };
  router.get(OAUTH_PATHS.userinfo, handler);
  router.post(OAUTH_PATHS.userinfo, handler);
}
