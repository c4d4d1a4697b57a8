import type Koa from 'koa';
import type { UserInfo } from '../../core/identity.js';
import type { SessionRecord } from '../../store/index.js';
import type { IssuerContext } from '../issuer-context.js';
import { renderProblemPage } from '../pages/problem-page.js';
import { renderResultPage } from '../pages/result-page.js';
import { renderStartPage } from '../pages/start-page.js';
import { clearWebSession, readWebSession } from './web-session-cookie.js';

/** The identity the verifier derives from a session, with the same rules (docs/design.md §4). */
function userAsVerifierSees(deps: IssuerContext, session: SessionRecord): UserInfo | undefined {
  const identity = session.identity;
  const outcome =
    identity.kind === 'claims'
      ? deps.mapping.forUpstream(identity.upstream).mapClaims(identity.claims)
      : deps.mapping.forUpstream().checkUser(identity.user, { allowSystem: identity.allowSystem ?? false });
  return outcome.ok ? outcome.user : undefined;
}

/**
 * `GET /result`: the page after a browser sign-in, rebuilt from the sealed session cookie and the live
 * session (so a revoked session shows the start page again, never a dead token).
 */
export function resultRoute(deps: IssuerContext) {
  return async (ctx: Koa.Context): Promise<void> => {
    const now = deps.clock.now();
    const cookie = readWebSession(ctx, deps.web, now);
    const session = cookie ? await deps.tokens.getSession(cookie.sessionId) : undefined;
    if (!cookie || !session) {
      if (cookie) clearWebSession(ctx, deps.web);
      renderStartPage(
        ctx,
        deps.upstreams.list(),
        cookie ? 'Your sign-in has ended. Sign in again.' : undefined,
      );
      return;
    }
    const user = userAsVerifierSees(deps, session);
    if (!user) {
      renderProblemPage(ctx, 'refused');
      return;
    }
    const upstream = deps.upstreams.get(cookie.upstream);
    renderResultPage(ctx, {
      user,
      upstreamLabel: upstream?.displayName ?? cookie.upstream,
      tokens: cookie.tokens,
      expiresAt: cookie.expiresAt,
      now,
      issuerURL: deps.web.publicURL.href.replace(/\/$/, ''),
      clusters: deps.issuer.clusters,
      csrfToken: deps.web.csrf.token(ctx),
    });
  };
}
