import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import type { IssuerContext } from '../issuer-context.js';
import type { CompletedLogin } from '../login/types.js';
import { type WebSessionCookie, writeWebSession } from './web-session-cookie.js';

/**
 * Finishes a browser sign-in: creates the session (the upstream's allow-listed claims, mapped again at
 * every review so rule changes apply to live tokens), mints one access token per configured cluster,
 * each for that cluster's audience only (a token leaked through one cluster must not work on the
 * others), keeps them in the sealed session cookie and redirects to the result page
 * (post/redirect/get: the callback URL with its code is not what stays in the address bar).
 */
export async function completeWebLogin(
  deps: IssuerContext,
  ctx: Koa.Context,
  login: CompletedLogin,
): Promise<void> {
  const session = await deps.tokens.createSession({
    identity: { kind: 'claims', upstream: login.upstream.name, claims: login.claims },
    username: login.user.username,
    source: 'web',
    upstreamIssuer: login.upstreamIssuer,
    subject: login.subject,
    ...(login.upstreamRefreshToken ? { upstreamRefreshToken: login.upstreamRefreshToken } : {}),
    description: `web sign-in with ${login.upstream.name}`,
  });
  const tokens: WebSessionCookie['tokens'] = [];
  let expiresAt = Number.POSITIVE_INFINITY;
  for (const cluster of deps.issuer.clusters) {
    const issued = await deps.tokens.issueAccessToken(session, [cluster.audience]);
    tokens.push({ cluster: cluster.name, token: issued.token });
    expiresAt = Math.min(expiresAt, issued.expiresAt);
    deps.metrics.mints.inc({ source: 'web' });
    audit(deps.logger, 'mint', {
      source: 'web',
      sessionId: session.id,
      username: session.username,
      upstream: login.upstream.name,
      audiences: [cluster.audience],
      expiresAt: issued.expiresAt,
    });
  }
  writeWebSession(
    ctx,
    deps.web,
    { sessionId: session.id, upstream: login.upstream.name, tokens, expiresAt },
    deps.clock.now(),
  );
  ctx.status = 303;
  ctx.redirect('/result');
}
