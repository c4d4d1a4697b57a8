import { authorizationCodeGrant } from 'openid-client';
import { isBridgeError } from '../../core/errors.js';
import { problemReference } from '../error-table.js';
import type { IssuerContext } from '../issuer-context.js';
import { LoginStates } from '../models/login-state.js';
import { collectUpstreamIdentity } from '../upstream/upstream-claims.js';
import { translateUpstreamError } from '../upstream/upstream-errors.js';
import type { CompletedLogin, LoginPurpose } from './types.js';

export type CallbackDeps = Pick<
  IssuerContext,
  'issuer' | 'store' | 'clock' | 'upstreams' | 'mapping' | 'refreshTokenBox' | 'web'
>;

export interface CallbackInput {
  /** `state` from the query, when there was one. */
  state: string | undefined;
  /** `error` from the query: the IdP's answer when it did not issue a code (RFC 6749 §4.1.2.1). */
  error: string | undefined;
  /** The URL the IdP redirected to, as the browser saw it (publicURL + /callback + the query). */
  callbackURL: URL;
  /** The browser-binding cookie the request carried. */
  binding: string | undefined;
  clientAddress: string;
}

/** How a sign-in that ended without a login is audited and counted. */
export type FailedLoginResult = 'cancelled' | 'error' | 'refused' | 'expired';

export type CallbackOutcome =
  | { ok: true; login: CompletedLogin; purpose: LoginPurpose }
  | {
      ok: false;
      problem: 'cancelled' | 'idp-error' | 'refused' | 'login-expired';
      result: FailedLoginResult;
      /** The upstream's name, `unknown` when not even the login state was found. */
      upstream: string;
      /** For the audit line; never a credential. */
      reason: string;
      /** Shown on the page and written in the audit line. */
      reference: string;
      /** The upstream's error, for the log line. */
      cause?: unknown;
    }
  | { ok: false; problem: 'rate-limited' };

const PROBLEM = {
  cancelled: 'cancelled',
  error: 'idp-error',
  refused: 'refused',
  expired: 'login-expired',
} as const;

function failed(
  result: FailedLoginResult,
  upstream: string,
  reason: string,
  cause?: unknown,
): CallbackOutcome {
  const reference = problemReference();
  return {
    ok: false,
    problem: PROBLEM[result],
    result,
    upstream,
    reason,
    reference,
    ...(cause !== undefined && { cause }),
  };
}

/**
 * `GET /callback`: the upstream IdP sends the browser back here.
 *
 * Takes the login state (single-use: a replayed callback finds nothing), checks it is fresh and comes
 * from the browser that started it, then lets openid-client validate the response (state, `iss`),
 * redeem the code with the PKCE verifier and validate the ID token (signature, `iss`, `aud`, `exp`,
 * `nonce`). The allow-listed claims go through the upstream's mapping rules; a refused user is an
 * outcome, never a login. Callbacks are rate-limited per client address like login starts. Throws
 * ERR_STORE_UNAVAILABLE when the store fails; an IdP that fails is an outcome (`idp-error`).
 */
export async function handleCallback(deps: CallbackDeps, input: CallbackInput): Promise<CallbackOutcome> {
  const allowed = await deps.web.rateLimiter.allow(input.clientAddress, {
    bucket: 'callback',
    limit: deps.issuer.rateLimit.loginPerMinute,
  });
  if (!allowed) return { ok: false, problem: 'rate-limited' };

  const state = input.state ?? '';
  const taken = await new LoginStates(deps.store).take(
    state,
    input.binding,
    deps.clock.now(),
    deps.issuer.loginStateTTL,
  );
  switch (taken.status) {
    case 'unknown':
      return failed('expired', 'unknown', state ? 'login state unknown, used or expired' : 'no state');
    case 'expired':
      return failed('expired', taken.upstream, 'login state expired');
    case 'other-browser':
      return failed('expired', taken.upstream, 'callback came from another browser than the login start');
  }
  const { login } = taken;
  const upstream = deps.upstreams.get(login.upstream);
  if (!upstream) return failed('expired', login.upstream, 'upstream no longer configured');
  if (input.error !== undefined) {
    // RFC 6749 §4.1.2.1: access_denied is the person (or the IdP's policy) saying no.
    const result = input.error === 'access_denied' ? 'cancelled' : 'error';
    return failed(result, upstream.name, `upstream answered ${input.error}`);
  }

  try {
    const config = await deps.upstreams.configuration(upstream.name);
    const response = await authorizationCodeGrant(config, input.callbackURL, {
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
    const mapped = deps.mapping.forUpstream(upstream.name).mapClaims(identity.claims);
    if (!mapped.ok) return failed('refused', upstream.name, `${mapped.rule}: ${mapped.reason}`);
    const completed: CompletedLogin = {
      upstream,
      upstreamIssuer: identity.issuer,
      subject: identity.subject,
      claims: identity.claims,
      user: mapped.user,
      ...(response.refresh_token && {
        upstreamRefreshToken: deps.refreshTokenBox.seal(response.refresh_token, upstream.name),
      }),
    };
    return { ok: true, login: completed, purpose: login.purpose };
  } catch (err) {
    if (!isBridgeError(err) || (err.code !== 'ERR_OAUTH' && err.code !== 'ERR_UPSTREAM')) throw err;
    return failed('error', upstream.name, err.message, err);
  }
}
