import type { OAuthErrorCode } from '../error-table.js';
import { type BeginDeps, type BeginOutcome, beginLogin } from '../login/begin.js';
import { PendingAuthorizations } from '../models/pending-authorization.js';
import { pendingBudget } from '../web/rate-limiter.js';
import { chooseAudience } from './audience.js';
import { issuerIdentifier } from './issuer-identifier.js';
import { isValidS256Challenge } from './pkce.js';
import { checkLoopbackRedirectUri, redirectWith } from './redirect-uri.js';
import { checkNoRepeats } from './request-params.js';

export type AuthorizeDeps = BeginDeps;

export type AuthorizeOutcome =
  /** Refused with a page and no redirect (RFC 6749 §4.1.2.1: never redirect to an unverified URI). */
  | {
      kind: 'problem';
      problem: 'unknown-client' | 'bad-redirect-uri' | 'authorization-expired' | 'rate-limited';
    }
  /** An error reported to the verified redirect URI (§4.1.2.1). */
  | { kind: 'redirect'; url: string }
  /** Parked; the person picks one of several upstreams (their links carry the request id). */
  | { kind: 'choose-upstream'; requestId: string }
  /** Parked; the login at the one upstream starts (or the start was refused). */
  | { kind: 'begin'; begin: BeginOutcome };

/** Longest `state` kept and echoed (RFC 6749 sets none; our CLI sends 43 characters). */
const MAX_STATE = 512;
/** Longest redirect URI accepted (a loopback URI with a path is far shorter). */
const MAX_REDIRECT_URI = 2048;

/**
 * The authorization request (RFC 6749 §4.1.1) of the one public client, the CLI: `response_type=code`,
 * PKCE S256 required (RFC 7636), loopback redirect URIs only (RFC 8252 §7.3, see redirect-uri.ts).
 *
 * A bad client_id or redirect_uri is refused with a page; every other problem is reported to the
 * verified redirect URI. A valid request is rate-limited, then parked (models/pending-authorization.ts)
 * and the upstream login starts; login/finish.ts answers it with a code.
 */
export async function authorizeRequest(
  deps: AuthorizeDeps,
  input: { query: URLSearchParams; clientAddress: string },
): Promise<AuthorizeOutcome> {
  const { issuer } = deps;
  const { query } = input;
  const checked = checkNoRepeats(query);
  if (query.get('client_id') !== issuer.cli.clientID) return { kind: 'problem', problem: 'unknown-client' };
  const redirect = checkLoopbackRedirectUri(query.get('redirect_uri') ?? undefined);
  if (!redirect.ok || query.getAll('redirect_uri').length > 1 || redirect.uri.length > MAX_REDIRECT_URI) {
    return { kind: 'problem', problem: 'bad-redirect-uri' };
  }
  const rawState = query.get('state') ?? undefined;
  // Never echoed back when too long: the redirect would carry whatever a script stuffed in it.
  const state = rawState !== undefined && rawState.length <= MAX_STATE ? rawState : undefined;
  const fail = (error: OAuthErrorCode, description: string): AuthorizeOutcome => ({
    kind: 'redirect',
    url: redirectWith(redirect.uri, {
      error,
      error_description: description,
      state,
      iss: issuerIdentifier(issuer),
    }),
  });
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
  if (upstreamName !== null && !deps.upstreams.get(upstreamName)) {
    return fail('invalid_request', 'unknown upstream');
  }

  // Bound before store: a refused request costs the store one counter, never a record.
  const allowed = await deps.web.rateLimiter.allow(
    input.clientAddress,
    { bucket: 'authorize', limit: issuer.rateLimit.loginPerMinute },
    pendingBudget(issuer),
  );
  if (!allowed) return { kind: 'problem', problem: 'rate-limited' };
  const requestId = await new PendingAuthorizations(deps.store).park(
    {
      clientId: issuer.cli.clientID,
      redirectUri: redirect.uri,
      codeChallenge: challenge,
      audience: audience.audience,
      ...(state !== undefined && { state }),
    },
    issuer.loginStateTTL,
  );
  const only = upstreamName ?? (issuer.upstreams.length === 1 ? issuer.upstreams[0]?.name : undefined);
  if (only === undefined) return { kind: 'choose-upstream', requestId };
  const begin = await beginLogin(deps, {
    upstream: only,
    purpose: { kind: 'cli-authorize', requestId },
    clientAddress: input.clientAddress,
  });
  return { kind: 'begin', begin };
}

/** The second step with several upstreams: the person picked one on the choice page. */
export async function continueAuthorization(
  deps: AuthorizeDeps,
  input: { requestId: string; upstream: string; clientAddress: string },
): Promise<AuthorizeOutcome> {
  const pending = await new PendingAuthorizations(deps.store).find(input.requestId);
  if (!pending || !deps.upstreams.get(input.upstream)) {
    return { kind: 'problem', problem: 'authorization-expired' };
  }
  const begin = await beginLogin(deps, {
    upstream: input.upstream,
    purpose: { kind: 'cli-authorize', requestId: input.requestId },
    clientAddress: input.clientAddress,
  });
  return { kind: 'begin', begin };
}
