import type Koa from 'koa';
import type { ClusterConfig } from '../../config/index.js';
import { formatDuration } from '../../core/duration.js';
import type { UserInfo } from '../../core/identity.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import { setupCommand, staticTokenKubeconfig } from './cluster-setup.js';

export interface ResultPageInput {
  user: UserInfo;
  upstreamLabel: string;
  /** One token per cluster (by name), each for that cluster's audience only. */
  tokens: { cluster: string; token: string }[];
  expiresAt: number;
  now: number;
  issuerURL: string;
  clusters: ClusterConfig[];
  csrfToken: string;
}

function copyable(id: string, label: string, text: string, className = '') {
  return html`<pre id="${id}" class="${className}" tabindex="0" aria-label="${label}">${text}</pre>
<p><button type="button" data-copy="${id}" hidden>Copy ${label}</button><span id="${id}-status" class="copy-status" role="status"></span></p>`;
}

/**
 * The result of a browser sign-in: who the cluster will see (mapped as the verifier maps), per cluster
 * its own token (valid there only) with a static-token kubeconfig and the plugin setup command, the
 * expiry, and sign-out. With one cluster the token keeps the plain `token` id.
 * Served with `Cache-Control: no-store` (securityHeaders) because it shows a bearer token.
 */
export function renderResultPage(ctx: Koa.Context, input: ResultPageInput): void {
  const { user } = input;
  const expiry = new Date(input.expiresAt * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const remaining = formatDuration(Math.max(0, input.expiresAt - input.now));
  const single = input.clusters.length === 1;
  const clusters = input.clusters.flatMap((cluster) => {
    const token = input.tokens.find((t) => t.cluster === cluster.name)?.token;
    return token === undefined ? [] : [{ cluster, token }];
  });
  renderPage(ctx, {
    title: 'You are signed in',
    script: true,
    main: html`<section aria-labelledby="who">
<h2 id="who">Who the cluster sees</h2>
<dl>
<dt>Username</dt><dd id="username">${user.username}</dd>
<dt>Groups</dt><dd>${
      user.groups.length > 0
        ? html`<ul id="groups">${user.groups.map((g) => html`<li>${g}</li>`)}</ul>`
        : html`<span id="groups" class="muted">none</span>`
    }</dd>
<dt>Signed in with</dt><dd>${input.upstreamLabel}</dd>
</dl>
</section>
<section aria-labelledby="token-heading">
<h2 id="token-heading">${single ? 'Your token' : 'Your tokens'}</h2>
<p>Valid until <time datetime="${expiry}">${expiry}</time> (${remaining} from now). Treat ${single ? 'it' : 'each'} like a password.${single ? '' : ' Each works on its own cluster only.'}</p>
${clusters.map(({ cluster, token }) =>
  single
    ? copyable('token', 'token', token, 'wrap')
    : html`<h3>${cluster.name}</h3>${copyable(`token-${cluster.name}`, `token for ${cluster.name}`, token, 'wrap')}`,
)}
</section>
<section aria-labelledby="plugin-heading">
<h2 id="plugin-heading">Set up automatic sign-in (recommended)</h2>
<p>Install <code>kube-oidc-bridge</code>, then run this once; <code>kubectl</code> will sign you in and renew tokens by itself.</p>
${input.clusters.map((c) => html`<h3>${c.name}</h3>${copyable(`setup-${c.name}`, `setup command for ${c.name}`, setupCommand(input.issuerURL, c), 'wrap')}`)}
</section>
<section aria-labelledby="kubeconfig-heading">
<h2 id="kubeconfig-heading">Or use this token directly</h2>
<p>A kubeconfig with the cluster's token above. It stops working when the token expires.</p>
${clusters.map(({ cluster, token }) => html`<h3>${cluster.name}</h3>${copyable(`kubeconfig-${cluster.name}`, `kubeconfig for ${cluster.name}`, staticTokenKubeconfig(cluster, user.username, token))}`)}
</section>
<section aria-labelledby="signout-heading">
<h2 id="signout-heading">Sign out</h2>
<p>Signing out revokes this token and every token of this sign-in.</p>
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="${input.csrfToken}">
<button type="submit" class="secondary">Sign out</button>
</form>
</section>`,
  });
}
