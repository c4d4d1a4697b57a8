import type { Router } from '@koa/router';
import type Koa from 'koa';
import type { IssuerContext } from '../issuer-context.js';
import { sendToUpstream } from '../login/login-routes.js';
import { renderProblemPage } from '../pages/problem-page.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import { type AuthorizeOutcome, authorizeRequest, continueAuthorization } from './authorization-request.js';
import { OAUTH_PATHS } from './issuer-identifier.js';

/**
 * The authorization endpoint (RFC 6749 §4.1.1) and, with several upstreams, its second step: parse,
 * call the use case (authorization-request.ts), render the outcome.
 */
export function registerAuthorize(router: Router, deps: IssuerContext): void {
  router.get(OAUTH_PATHS.authorize, async (ctx) => {
    const query = new URLSearchParams(ctx.querystring);
    render(ctx, deps, await authorizeRequest(deps, { query, clientAddress: ctx.ip }));
  });

  router.get(OAUTH_PATHS.authorizeContinue, async (ctx) => {
    const input = {
      requestId: String(ctx.query.request ?? ''),
      upstream: String(ctx.query.upstream ?? ''),
      clientAddress: ctx.ip,
    };
    render(ctx, deps, await continueAuthorization(deps, input));
  });
}

function render(ctx: Koa.Context, deps: IssuerContext, outcome: AuthorizeOutcome): void {
  switch (outcome.kind) {
    case 'problem':
      renderProblemPage(ctx, outcome.problem);
      return;
    case 'redirect':
      ctx.redirect(outcome.url);
      return;
    case 'choose-upstream':
      upstreamChoicePage(ctx, deps, outcome.requestId);
      return;
    case 'begin':
      sendToUpstream(ctx, deps, outcome.begin);
      return;
  }
}

function upstreamChoicePage(ctx: Koa.Context, deps: IssuerContext, requestId: string): void {
  const links = deps.upstreams.list().map((u) => {
    const href = `${OAUTH_PATHS.authorizeContinue}?${new URLSearchParams({ request: requestId, upstream: u.name })}`;
    return html`<li><a class="button" href="${href}">Sign in with ${u.displayName ?? u.name}</a></li>`;
  });
  renderPage(ctx, {
    title: 'Sign in for kubectl',
    main: html`<p>The kube-oidc-bridge command line on your computer asked to sign you in. Choose your
identity provider:</p><ul class="upstreams">${links}</ul>`,
  });
}
