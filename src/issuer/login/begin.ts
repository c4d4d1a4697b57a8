import {
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  randomNonce,
  randomPKCECodeVerifier,
} from 'openid-client';
import type { IssuerContext } from '../issuer-context.js';
import { LoginStates } from '../models/login-state.js';
import { pendingBudget } from '../web/rate-limiter.js';
import type { LoginPurpose } from './types.js';

export type BeginDeps = Pick<IssuerContext, 'issuer' | 'store' | 'clock' | 'upstreams' | 'web'>;

export interface BeginInput {
  /** The upstream's name as the request gave it (unchecked). */
  upstream: string;
  purpose: LoginPurpose;
  /** The client's address (web/client-address.ts), for the rate limits. */
  clientAddress: string;
}

export type BeginOutcome =
  | {
      ok: true;
      /** Where to send the browser: the upstream's authorization endpoint. */
      redirect: string;
      /** The browser-binding cookie to set, for `issuer.loginStateTTL` seconds. */
      binding: string;
    }
  | { ok: false; problem: 'unknown-upstream' | 'rate-limited' };

/**
 * Starts a login at an upstream IdP (OIDC authorization code flow with PKCE S256, `state` and
 * `nonce`). The state, nonce, PKCE verifier and purpose are kept server-side (models/login-state.ts)
 * so any replica can take the callback, and the callback can use them once; a fresh random binding,
 * set as a cookie, ties the login to this browser so a callback URL replayed in another browser (login
 * CSRF) is refused. Login starts are rate-limited per client address, before anything is stored.
 * Throws ERR_UPSTREAM when the upstream cannot be discovered, ERR_STORE_UNAVAILABLE when the store fails.
 * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE)
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 */
export async function beginLogin(deps: BeginDeps, input: BeginInput): Promise<BeginOutcome> {
  const upstream = deps.upstreams.get(input.upstream);
  if (!upstream) return { ok: false, problem: 'unknown-upstream' };
  const allowed = await deps.web.rateLimiter.allow(
    input.clientAddress,
    { bucket: 'login', limit: deps.issuer.rateLimit.loginPerMinute },
    pendingBudget(deps.issuer),
  );
  if (!allowed) return { ok: false, problem: 'rate-limited' };
  const config = await deps.upstreams.configuration(upstream.name);

  const nonce = randomNonce();
  const codeVerifier = randomPKCECodeVerifier();
  const { state, binding } = await new LoginStates(deps.store).start(
    { upstream: upstream.name, nonce, codeVerifier, purpose: input.purpose, createdAt: deps.clock.now() },
    deps.issuer.loginStateTTL,
  );
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
  return { ok: true, redirect: url.href, binding };
}
