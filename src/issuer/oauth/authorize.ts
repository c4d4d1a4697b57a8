import type { Router } from '@koa/router';
import type Koa from 'koa';
import { randomId } from '../../core/token-format.js';
import type { IssuerContext } from '../issuer-context.js';
import { beginUpstreamLogin } from '../login/begin-login.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import { chooseAudience } from './audience.js';
import { issuerIdentifier, OAUTH_PATHS } from './issuer-identifier.js';
import type { OAuthErrorCode } from './oauth-error.js';
import { isValidS256Challenge } from './pkce.js';
import { checkLoopbackRedirectUri } from './redirect-uri.js';
import { checkNoRepeats } from './request-params.js';

/**
 * The authorization endpoint (RFC 6749 §4.1.1) for the one public client, the CLI: `response_type=code`,
 * PKCE S256 required (RFC 7636), loopback redirect URIs only (RFC 8252 §7.3, see redirect-uri.ts).
 *
 * A bad client_id or redirect_uri gets an error page and no redirect (§4.1.2.1: never redirect to an
 * unverified URI); every other problem is reported to the verified redirect URI. A valid request is
 * parked in the store and the upstream login starts; `authorization-completion.ts` finishes it.
 */

/** The parked request (store namespace `login`, key `authorize:<id>`, TTL `issuer.loginStateTTL`). */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state?: string;
  codeChallenge: string;
  audience: string;
}

/** Longest `state` kept and echoed (RFC 6749 sets none; our CLI sends 43 characters). */
const MAX_STATE = 512;
/** Longest redirect URI accepted (a loopback URI with a path is far shorter). */
const MAX_REDIRECT_URI = 2048;

export function pendingAuthorizationKey(requestId: string): string {
  return `authorize:${requestId}`;
}

/** Appends OAuth response parameters to a redirect URI (keeping any query it already has). */
export function redirectWith(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.href;
}

function refusePage(ctx: Koa.Context, reason: string): void {
  renderPage(ctx, {
    status: 400,
    title: 'Login request not accepted',
    main: html`<div class="notice problem"><p>This login request did not come from a kube-oidc-bridge command line
on this computer, so it was stopped here. ${reason}.</p>
<p>Run <code>kube-oidc-bridge login</code> (or any kubectl command) again to start a new login.</p></div>`,
  });
}

function upstreamChoicePage(ctx: Koa.Context, deps: IssuerContext, requestId: string): void {
  const links = deps.issuer.upstreams.map((u) => {
    const href = `${OAUTH_PATHS.authorizeContinue}?${new URLSearchParams({ request: requestId, upstream: u.name })}`;
    return html`<li><a class="button" href="${href}">Sign in with ${u.displayName ?? u.name}</a></li>`;
  });
  renderPage(ctx, {
    title: 'Sign in for kubectl',
    main: html`<p>The kube-oidc-bridge command line on your computer asked to sign you in. Choose your
identity provider:</p><ul class="upstreams">${links}</ul>`,
  });
}

export function registerAuthorize(router: Router, deps: IssuerContext): void {
  const issuer = deps.issuer;

  router.get(OAUTH_PATHS.authorize, async (ctx) => {
    const query = new URLSearchParams(ctx.querystring);
    const checked = checkNoRepeats(query);
    if (query.get('client_id') !== issuer.cli.clientID) {
      refusePage(ctx, 'The client is unknown');
      return;
    }
    const redirect = checkLoopbackRedirectUri(query.get('redirect_uri') ?? undefined);
    if (!redirect.ok || query.getAll('redirect_uri').length > 1 || redirect.uri.length > MAX_REDIRECT_URI) {
      refusePage(ctx, 'Its return address is not allowed');
      return;
    }
    const rawState = query.get('state') ?? undefined;
    // Never echoed back when too long: the redirect would carry whatever a script stuffed in it.
    const state = rawState !== undefined && rawState.length <= MAX_STATE ? rawState : undefined;
    const fail = (error: OAuthErrorCode, description: string) => {
      ctx.redirect(
        redirectWith(redirect.uri, {
          error,
          error_description: description,
          state,
          iss: issuerIdentifier(issuer),
        }),
      );
    };
    if (!checked.ok) return fail('invalid_request', checked.description);
    if (rawState !== state) return fail('invalid_request', `state is longer than ${MAX_STATE} characters`);
    if (query.get('response_type') !== 'code') {
      return fail('unsupported_response_type', 'only response_type=code is supported');
    }
    const challenge = query.get('code_challenge');
    if (query.get('code_challenge_method') !== 'S256' || !challenge) {
      return fail('invalid_request', 'PKCE with code_challenge_method=S256 is required');
    }
    if (!isValidS256Challenge(challenge))
      return fail('invalid_request', 'code_challenge is not an S256 challenge');
    const audience = chooseAudience(issuer, query);
    if (!audience.ok) return fail('invalid_target', audience.description);
    const upstreamName = query.get('upstream');
    if (upstreamName !== null && !issuer.upstreams.some((u) => u.name === upstreamName)) {
      return fail('invalid_request', 'unknown upstream');
    }

    // Bound before store: a refused request costs the store one counter, never a record.
    await deps.web.rateLimiter.check(ctx, 'authorize', issuer.rateLimit.loginPerMinute);
    await deps.web.rateLimiter.checkPendingBudget(ctx, issuer);
    const requestId = randomId();
    const pending: PendingAuthorization = {
      clientId: issuer.cli.clientID,
      redirectUri: redirect.uri,
      codeChallenge: challenge,
      audience: audience.audience,
      ...(state !== undefined && { state }),
    };
    await deps.store.putEphemeral('login', pendingAuthorizationKey(requestId), pending, issuer.loginStateTTL);
    const only = upstreamName ?? (issuer.upstreams.length === 1 ? issuer.upstreams[0]?.name : undefined);
    if (only === undefined) {
      upstreamChoicePage(ctx, deps, requestId);
      return;
    }
    await beginUpstreamLogin(deps, ctx, only, { kind: 'cli-authorize', requestId });
  });

  // Second step when the issuer has several upstreams: the person picked one on the choice page.
  router.get(OAUTH_PATHS.authorizeContinue, async (ctx) => {
    const requestId = String(ctx.query.request ?? '');
    const upstream = String(ctx.query.upstream ?? '');
    const pending = requestId
      ? await deps.store.getEphemeral<PendingAuthorization>('login', pendingAuthorizationKey(requestId))
      : undefined;
    if (!pending || !issuer.upstreams.some((u) => u.name === upstream)) {
      refusePage(ctx, 'It has expired or is incomplete');
      return;
    }
    await beginUpstreamLogin(deps, ctx, upstream, { kind: 'cli-authorize', requestId });
  });
}
