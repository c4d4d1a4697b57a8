import type { RouterContext } from '@koa/router';
import type Koa from 'koa';
import type { IssuerContext } from '../issuer-context.js';
import { renderProblemPage } from '../pages/problem-page.js';
import { writeWebSession } from '../session/web-session-cookie.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import { type BeginOutcome, beginLogin } from './begin.js';
import { handleCallback } from './callback.js';
import { type FinishOutcome, finishLogin } from './finish.js';
import { recordCallbackOutcome, recordFinishOutcome } from './login-instruments.js';

/** Cookie binding a login to the browser that started it. */
export const LOGIN_BINDING_COOKIE = 'kob-login';

/** The one query parameter of that name, or undefined (absent or repeated). */
function single(ctx: Koa.Context, name: string): string | undefined {
  const value = ctx.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** Renders a login start: the binding cookie and the redirect upstream, or the problem page. */
export function sendToUpstream(
  ctx: Koa.Context,
  deps: Pick<IssuerContext, 'web' | 'issuer'>,
  outcome: BeginOutcome,
): void {
  if (!outcome.ok) {
    renderProblemPage(ctx, outcome.problem);
    return;
  }
  deps.web.cookies.set(ctx, LOGIN_BINDING_COOKIE, outcome.binding, deps.issuer.loginStateTTL);
  ctx.redirect(outcome.redirect);
}

/** `GET /login/:upstream`: a browser sign-in starts. */
export function loginStartRoute(deps: IssuerContext) {
  return async (ctx: RouterContext): Promise<void> => {
    const outcome = await beginLogin(deps, {
      upstream: ctx.params['upstream'] ?? '',
      purpose: { kind: 'web' },
      clientAddress: ctx.ip,
    });
    sendToUpstream(ctx, deps, outcome);
  };
}

/** `GET /callback`: the login is taken and checked, then finished for its purpose (login/finish.ts). */
export function callbackRoute(deps: IssuerContext) {
  return async (ctx: Koa.Context): Promise<void> => {
    const outcome = await handleCallback(deps, {
      state: single(ctx, 'state'),
      error: single(ctx, 'error'),
      // The URL the IdP redirected to, as the browser saw it (publicURL, whatever proxy is in front).
      callbackURL: new URL(deps.web.absoluteURL(`/callback${ctx.querystring ? `?${ctx.querystring}` : ''}`)),
      binding: deps.web.cookies.get(ctx, LOGIN_BINDING_COOKIE),
      clientAddress: ctx.ip,
    });
    recordCallbackOutcome(deps, outcome);
    if (!outcome.ok) {
      return renderProblemPage(ctx, outcome.problem, 'reference' in outcome ? outcome.reference : undefined);
    }
    const finished = await finishLogin(deps, outcome.login, outcome.purpose);
    recordFinishOutcome(deps, finished);
    renderFinished(ctx, deps, finished);
  };
}

function renderFinished(ctx: Koa.Context, deps: IssuerContext, outcome: FinishOutcome): void {
  switch (outcome.kind) {
    case 'web':
      // Post/redirect/get: the callback URL with its code is not what stays in the address bar.
      writeWebSession(ctx, deps.web, outcome.cookie, deps.clock.now());
      ctx.status = 303;
      ctx.redirect('/result');
      return;
    case 'cli':
      ctx.redirect(outcome.redirect);
      return;
    case 'device':
      renderPage(ctx, {
        title: 'Device signed in',
        main: html`<p>You are signed in as <strong>${outcome.username}</strong>. Return to your terminal: it
continues by itself. You can close this page.</p>`,
      });
      return;
    case 'problem':
      renderProblemPage(ctx, outcome.problem);
      return;
  }
}
