import type Koa from 'koa';
import type { UpstreamConfig } from '../../config/index.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';

/** `GET /`: one button per upstream IdP. `notice` says why the person is back here (e.g. signed out). */
export function renderStartPage(ctx: Koa.Context, upstreams: UpstreamConfig[], notice?: string): void {
  renderPage(ctx, {
    title: 'Sign in to Kubernetes',
    main: html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<p>Sign in with your organisation account to get a short-lived token for <code>kubectl</code>, a ready
kubeconfig, and the command that sets up automatic sign-in.</p>
<nav aria-label="Sign-in options"><ul class="upstreams">
${upstreams.map(
  (u) =>
    html`<li><a class="button" href="/login/${encodeURIComponent(u.name)}">Sign in with ${u.displayName ?? u.name}</a></li>`,
)}
</ul></nav>`,
  });
}
