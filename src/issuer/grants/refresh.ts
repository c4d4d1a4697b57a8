import type { IssuerConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import { BridgeError } from '../../core/errors.js';
import type { SessionRecord, TokenStore } from '../../store/index.js';
import type { TokenService } from '../../tokens/index.js';
import { UpstreamCheckLocks } from '../models/upstream-check-lock.js';
import { chooseAudience } from '../oauth/audience.js';
import { refreshUpstream, type UpstreamRefreshDeps } from '../upstream/refresh-upstream.js';
import { type GrantOutcome, refused } from './grant-outcome.js';
import { mintTokenPair } from './mint-token-pair.js';

export interface RefreshGrantDeps {
  issuer: IssuerConfig;
  tokens: TokenService;
  store: TokenStore;
  clock: Clock;
  /** For the upstream re-check (upstream/refresh-upstream.ts). */
  upstreams: UpstreamRefreshDeps['upstreams'];
  mapping: UpstreamRefreshDeps['mapping'];
  refreshTokenBox: UpstreamRefreshDeps['refreshTokenBox'];
  /** Waits between looks at a concurrent twin's upstream check; tests may shorten it. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RefreshGrantInput {
  clientId: string;
  params: URLSearchParams;
}

/** A twin request waits this long for the re-check another request runs (see below). */
const TWIN_WAIT_MS = 25_000;
const TWIN_POLL_MS = 100;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `grant_type=refresh_token` (RFC 6749 §6), validating before it consumes:
 *
 * 1. The token is inspected, not used: unknown, expired, another client's or a reuse after
 *    `tokens.refreshReuseGrace` (which revokes the session, RFC 9700 §4.14.2) end here.
 * 2. The audience is checked: a mistyped `--audience` is `invalid_target` and the token stays usable.
 * 3. When the session holds an upstream refresh token, the user is re-checked at the IdP (one check
 *    per session at a time). A refusal ends the session; an unreachable IdP throws ERR_UPSTREAM (the
 *    endpoint answers the retryable `temporarily_unavailable`) and the token is *not* used.
 * 4. Only now the token is used (`redeemRefreshToken`). A second use within the grace window still
 *    succeeds (kubectl processes refreshing together, dex#1976) — and since a token is only ever
 *    marked used after its re-check passed, that grace reuse never skips a check that did not happen.
 *
 * Multi-cluster: `audience` may name any configured cluster; the access token is for that one only.
 * This is the place to add upstream lookups at refresh (e.g. group membership): `recheckUpstream`.
 */
export async function refreshGrant(deps: RefreshGrantDeps, input: RefreshGrantInput): Promise<GrantOutcome> {
  const token = input.params.get('refresh_token');
  if (!token) return refused('refresh_token', 'invalid', 'invalid_request', 'refresh_token is required');

  const inspected = await deps.tokens.inspectRefreshToken(token, input.clientId);
  if (inspected.status === 'invalid') {
    const result = inspected.reason === 'expired' ? 'expired' : 'unknown';
    return refused('refresh_token', result, 'invalid_grant', 'refresh token is not valid');
  }
  if (inspected.status === 'reuse_detected') {
    return refused(
      'refresh_token',
      'reuse_revoked',
      'invalid_grant',
      'refresh token was already used; the session is revoked',
      { sessionId: inspected.sessionId, reason: 'refresh_token_reuse' },
    );
  }
  const audience = chooseAudience(deps.issuer, input.params, inspected.record.audiences[0]);
  if (!audience.ok) return refused('refresh_token', 'invalid_target', 'invalid_target', audience.description);

  let session = inspected.session;
  if (needsUpstreamCheck(session) && inspected.usedAt === undefined) {
    const checked = await recheckOnce(deps, token, input.clientId, session);
    if (!checked.ok) return checked.outcome;
    session = checked.session;
  }

  const redeemed = await deps.tokens.redeemRefreshToken(token, input.clientId);
  if (redeemed.status === 'invalid') {
    const result = redeemed.reason === 'expired' ? 'expired' : 'unknown';
    return refused('refresh_token', result, 'invalid_grant', 'refresh token is not valid');
  }
  if (redeemed.status === 'reuse_detected') {
    return refused('refresh_token', 'reuse_revoked', 'invalid_grant', 'refresh token was already used', {
      sessionId: redeemed.sessionId,
      reason: 'refresh_token_reuse',
    });
  }
  return mintTokenPair(
    deps,
    'refresh_token',
    redeemed.graceReuse ? 'reuse_grace' : 'success',
    redeemed.session,
    audience.audience,
    redeemed.record.audiences,
  );
}

function needsUpstreamCheck(session: SessionRecord): boolean {
  return session.upstreamRefreshToken !== undefined && session.identity.kind === 'claims';
}

type Rechecked = { ok: true; session: SessionRecord } | { ok: false; outcome: GrantOutcome };

/**
 * Takes the session's check lock and re-checks upstream. When a twin request holds the lock, waits
 * until the twin used the token (then its check counts for both: a grace reuse) or gave up (then
 * checks itself). Throws ERR_UPSTREAM when the IdP is down, ERR_STORE_UNAVAILABLE when the store is.
 */
async function recheckOnce(
  deps: RefreshGrantDeps,
  token: string,
  clientId: string,
  session: SessionRecord,
): Promise<Rechecked> {
  const locks = new UpstreamCheckLocks(deps.store);
  const sleep = deps.sleep ?? defaultSleep;
  for (let waited = 0; ; waited += TWIN_POLL_MS) {
    if (await locks.acquire(session.id, deps.clock.now())) break;
    if (waited >= TWIN_WAIT_MS) {
      throw new BridgeError('ERR_UPSTREAM', 'a concurrent upstream re-check of this session did not finish');
    }
    await sleep(TWIN_POLL_MS);
    const again = await deps.tokens.inspectRefreshToken(token, clientId);
    if (again.status === 'ok' && again.usedAt !== undefined) return { ok: true, session: again.session };
    if (again.status !== 'ok') {
      return {
        ok: false,
        outcome: refused('refresh_token', 'unknown', 'invalid_grant', 'refresh token is not valid'),
      };
    }
  }
  try {
    return await recheckUpstream(deps, session);
  } finally {
    await locks.release(session.id);
  }
}

/** Asks the IdP about the user; stores fresh claims and a rotated upstream refresh token. */
async function recheckUpstream(deps: RefreshGrantDeps, session: SessionRecord): Promise<Rechecked> {
  if (session.identity.kind !== 'claims' || !session.upstreamRefreshToken) return { ok: true, session };
  const checked = await refreshUpstream(deps, session.identity.upstream, session.upstreamRefreshToken, {
    ...(session.subject !== undefined && { subject: session.subject }),
  });
  if (checked.status === 'refused') {
    await deps.tokens.revokeSession(session.id);
    return {
      ok: false,
      outcome: refused(
        'refresh_token',
        'upstream_refused',
        'invalid_grant',
        'the identity provider no longer accepts this login',
        {
          sessionId: session.id,
          reason: 'upstream_refused',
          username: session.username,
          detail: checked.reason,
        },
      ),
    };
  }
  const updated: SessionRecord = {
    ...session,
    identity: { ...session.identity, claims: checked.claims },
    username: checked.user.username,
    upstreamRefreshToken: checked.upstreamRefreshToken ?? session.upstreamRefreshToken,
  };
  await deps.tokens.updateSession(updated);
  return { ok: true, session: updated };
}
