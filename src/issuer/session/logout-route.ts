import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import type { IssuerContext } from '../issuer-context.js';
import { renderProblemPage } from '../pages/problem-page.js';
import { renderStartPage } from '../pages/start-page.js';
import { readFormBody } from '../web/form-body.js';
import { clearWebSession, readWebSession } from './web-session-cookie.js';

/**
 * `POST /logout` (CSRF-protected): revokes the browser's session at the store — every token of this
 * sign-in stops working at the next review the apiserver does not answer from its cache — and
 * clears the session cookie.
 */
export function logoutRoute(deps: IssuerContext) {
  return async (ctx: Koa.Context): Promise<void> => {
    const form = await readFormBody(ctx.req);
    if (!deps.web.csrf.verify(ctx, form.get('csrf'))) {
      deps.logger.warn({ path: ctx.path }, 'sign-out refused: CSRF check failed');
      renderProblemPage(ctx, 'bad-request');
      return;
    }
    const cookie = readWebSession(ctx, deps.web, deps.clock.now());
    if (cookie) {
      const revoked = await deps.tokens.revokeSession(cookie.sessionId);
      if (revoked) deps.metrics.revocations.inc({ scope: 'session' });
      audit(deps.logger, 'revoke', { scope: 'session', sessionId: cookie.sessionId, source: 'web', revoked });
    }
    clearWebSession(ctx, deps.web);
    renderStartPage(
      ctx,
      deps.upstreams.list(),
      'You are signed out and your token is revoked (clusters notice within two minutes).',
    );
  };
}
