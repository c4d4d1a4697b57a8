import type Koa from 'koa';
import type { IssuerContext } from '../issuer-context.js';
import { recordSignOut } from '../login/login-instruments.js';
import { renderProblemPage } from '../pages/problem-page.js';
import { renderResultPage } from '../pages/result-page.js';
import { renderStartPage } from '../pages/start-page.js';
import { readFormBody } from '../web/form-body.js';
import { showResult, signOut } from './web-session.js';
import { clearWebSession, readWebSession } from './web-session-cookie.js';

/** `GET /result`: the page after a browser sign-in (web-session.ts decides what it shows). */
export function resultRoute(deps: IssuerContext) {
  return async (ctx: Koa.Context): Promise<void> => {
    const now = deps.clock.now();
    const outcome = await showResult(deps, readWebSession(ctx, deps.web, now));
    switch (outcome.kind) {
      case 'signed-out':
        if (outcome.ended) clearWebSession(ctx, deps.web);
        renderStartPage(
          ctx,
          deps.upstreams.list(),
          outcome.ended ? 'Your sign-in has ended. Sign in again.' : undefined,
        );
        return;
      case 'refused':
        renderProblemPage(ctx, 'refused');
        return;
      case 'result':
        renderResultPage(ctx, {
          user: outcome.user,
          upstreamLabel: outcome.upstreamLabel,
          tokens: outcome.cookie.tokens,
          expiresAt: outcome.cookie.expiresAt,
          now,
          issuerURL: deps.web.publicURL.href.replace(/\/$/, ''),
          clusters: deps.issuer.clusters,
          csrfToken: deps.web.csrf.token(ctx),
        });
        return;
    }
  };
}

/** `POST /logout` (CSRF-protected): revokes the browser's session and clears the session cookie. */
export function logoutRoute(deps: IssuerContext) {
  return async (ctx: Koa.Context): Promise<void> => {
    const form = await readFormBody(ctx.req);
    if (!deps.web.csrf.verify(ctx, form.get('csrf'))) {
      deps.logger.warn({ path: ctx.path }, 'sign-out refused: CSRF check failed');
      renderProblemPage(ctx, 'bad-request');
      return;
    }
    const outcome = await signOut(deps, readWebSession(ctx, deps.web, deps.clock.now()));
    recordSignOut(deps, outcome);
    clearWebSession(ctx, deps.web);
    renderStartPage(
      ctx,
      deps.upstreams.list(),
      'You are signed out and your token is revoked (clusters notice within two minutes).',
    );
  };
}
