import { timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { authorizationCodeGrant } from 'openid-client';
import { isBridgeError } from '../../core/errors.js';
import { audit } from '../../core/logger.js';
import { hashCredential } from '../../core/token-format.js';
import type { IssuerContext } from '../issuer-context.js';
import { problemReference, renderProblemPage } from '../pages/problem-page.js';
import { collectUpstreamIdentity } from '../upstream/upstream-claims.js';
import { translateUpstreamError } from '../upstream/upstream-errors.js';
import { LOGIN_BINDING_COOKIE } from './begin-login.js';
import { finishLogin } from './finish-login.js';
import type { CompletedLogin, LoginState } from './types.js';

type FailedResult = 'cancelled' | 'error' | 'refused' | 'expired';

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * `GET /callback`: the upstream IdP sends the browser back here.
 *
 * Takes the login state (single-use: a replayed callback finds nothing), checks it is fresh and comes
 * from the browser that started it, then lets openid-client validate the response (state, `iss`), redeem
 * the code with the PKCE verifier and validate the ID token (signature, `iss`, `aud`, `exp`, `nonce`).
 * The allow-listed claims go through the upstream's mapping rules; a refused user gets the refusal page
 * and never reaches finishLogin. Every outcome is audited and counted. Callbacks are
 * rate-limited per client IP like login starts.
 */
export async function handleCallback(deps: IssuerContext, ctx: Koa.Context): Promise<void> {
  await deps.web.rateLimiter.check(ctx, 'callback', deps.issuer.rateLimit.loginPerMinute);
  const { logger, metrics } = deps;

  const fail = (result: FailedResult, upstream: string, reason: string, reference = problemReference()) => {
    audit(logger, 'login', { result, upstream, reason, reference });
    metrics.logins.inc({ upstream, result: result === 'expired' ? 'error' : result });
    const kind = {
      cancelled: 'cancelled',
      error: 'idp-error',
      refused: 'refused',
      expired: 'login-expired',
    } as const;
    renderProblemPage(ctx, kind[result], reference);
  };

  const state = typeof ctx.query['state'] === 'string' ? ctx.query['state'] : '';
  const login = state
    ? await deps.store.takeEphemeral<LoginState>('login', hashCredential(state))
    : undefined;
  if (!login) return fail('expired', 'unknown', state ? 'login state unknown, used or expired' : 'no state');
  if (login.createdAt + deps.issuer.loginStateTTL <= deps.clock.now()) {
    return fail('expired', login.upstream, 'login state expired');
  }
  const binding = deps.web.cookies.get(ctx, LOGIN_BINDING_COOKIE);
  if (!binding || !sameHash(hashCredential(binding), login.browserBinding)) {
    return fail('expired', login.upstream, 'callback came from another browser than the login start');
  }
  const upstream = deps.upstreams.get(login.upstream);
  if (!upstream) return fail('expired', login.upstream, 'upstream no longer configured');

  const idpError = ctx.query['error'];
  if (typeof idpError === 'string') {
    // RFC 6749 §4.1.2.1: access_denied is the person (or the IdP's policy) saying no.
    return fail(
      idpError === 'access_denied' ? 'cancelled' : 'error',
      upstream.name,
      `upstream answered ${idpError}`,
    );
  }

  let completed: CompletedLogin;
  try {
    const config = await deps.upstreams.configuration(upstream.name);
    // The URL the IdP redirected to, as the browser saw it (publicURL, whatever proxy is in front).
    const currentUrl = new URL(
      deps.web.absoluteURL(`/callback${ctx.querystring ? `?${ctx.querystring}` : ''}`),
    );
    const response = await authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: login.codeVerifier,
      expectedState: state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    }).catch((err: unknown) => {
      throw translateUpstreamError(err, upstream.name, 'token');
    });
    const identity = await collectUpstreamIdentity(config, upstream, response, {
      groupLookup: deps.upstreams.groupLookup(upstream.name, config),
    });
    const outcome = deps.mapping.forUpstream(upstream.name).mapClaims(identity.claims);
    if (!outcome.ok) {
      return fail('refused', upstream.name, `${outcome.rule}: ${outcome.reason}`);
    }
    completed = {
      upstream,
      upstreamIssuer: identity.issuer,
      subject: identity.subject,
      claims: identity.claims,
      user: outcome.user,
      ...(response.refresh_token
        ? { upstreamRefreshToken: deps.refreshTokenBox.seal(response.refresh_token, upstream.name) }
        : {}),
    };
  } catch (err) {
    if (!isBridgeError(err) || (err.code !== 'ERR_OAUTH' && err.code !== 'ERR_UPSTREAM')) throw err;
    const reference = problemReference();
    logger.warn({ err, upstream: upstream.name, reference }, 'upstream login failed');
    return fail('error', upstream.name, err.message, reference);
  }

  audit(logger, 'login', {
    result: 'success',
    upstream: upstream.name,
    subject: completed.subject,
    username: completed.user.username,
    purpose: login.purpose.kind,
  });
  metrics.logins.inc({ upstream: upstream.name, result: 'success' });
  await finishLogin(deps, ctx, completed, login.purpose);
}
