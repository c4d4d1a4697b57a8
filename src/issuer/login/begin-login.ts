import type Koa from 'koa';
import {
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
} from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import { hashCredential, randomId } from '../../core/token-format.js';
import type { IssuerContext } from '../issuer-context.js';
import type { LoginPurpose, LoginState } from './types.js';

/** Cookie binding a login to the browser that started it. */
export const LOGIN_BINDING_COOKIE = 'kob-login';

/**
 * Starts a login at an upstream IdP and redirects the browser there (OIDC authorization code flow
 * with PKCE S256, `state` and `nonce`).
 *
 * The state, nonce, PKCE verifier and purpose are kept server-side in the store (namespace `login`,
 * keyed by a hash of `state`, TTL `issuer.loginStateTTL`) so any replica can take the callback, and
 * the callback can use them once. A random cookie binds the login to this browser: a callback URL
 * replayed in another browser (login CSRF) is refused. Login starts are rate-limited per client IP.
 * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE)
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 */
export async function beginUpstreamLogin(
  deps: IssuerContext,
  ctx: Koa.Context,
  upstreamName: string,
  purpose: LoginPurpose,
): Promise<void> {
  const upstream = deps.upstreams.get(upstreamName);
  if (!upstream) throw new BridgeError('ERR_NOT_FOUND', `unknown upstream ${JSON.stringify(upstreamName)}`);
  await deps.web.rateLimiter.check(ctx, 'login', deps.issuer.rateLimit.loginPerMinute);
  await deps.web.rateLimiter.checkPendingBudget(ctx, deps.issuer);
  const config = await deps.upstreams.configuration(upstream.name);

  const state = randomState();
  const nonce = randomNonce();
  const codeVerifier = randomPKCECodeVerifier();
  // A fresh binding for every login, never the value the browser brought: a value planted by someone
  // else (login CSRF, session fixation) would let their callback complete in this browser.
  const binding = randomId(32);
  deps.web.cookies.set(ctx, LOGIN_BINDING_COOKIE, binding, deps.issuer.loginStateTTL);

  const record: LoginState = {
    upstream: upstream.name,
    nonce,
    codeVerifier,
    purpose,
    createdAt: deps.clock.now(),
    browserBinding: hashCredential(binding),
  };
  await deps.store.putEphemeral('login', hashCredential(state), record, deps.issuer.loginStateTTL);

  const url = buildAuthorizationUrl(config, {
    // Admin-chosen extras first: they may add (prompt, hd, acr_values…), never replace the security parameters.
    ...upstream.authorizationParams,
    redirect_uri: deps.web.absoluteURL('/callback'),
    scope: upstream.scopes.join(' '),
    state,
    nonce,
    code_challenge: await calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  ctx.redirect(url.href);
}
