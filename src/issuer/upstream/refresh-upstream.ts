import { refreshTokenGrant } from 'openid-client';
import type { Claims, UserInfo } from '../../core/identity.js';
import type { MappingSet } from '../../mapping/index.js';
import type { SecretBox } from './secret-box.js';
import { collectUpstreamIdentity } from './upstream-claims.js';
import { translateUpstreamError } from './upstream-errors.js';
import type { UpstreamRegistry } from './upstream-registry.js';

/** Outcome of re-checking a user at their upstream IdP with the stored refresh token. */
export type UpstreamRefreshResult =
  | {
      status: 'ok';
      /** Fresh claims, allow-listed: store them with the session so the verifier maps the new ones. */
      claims: Claims;
      /** The identity the rules make of the fresh claims. */
      user: UserInfo;
      /** Present when the IdP rotated its refresh token: the new one, encrypted. Keep it. */
      upstreamRefreshToken?: string;
    }
  | { status: 'refused'; reason: string };

export interface UpstreamRefreshDeps {
  upstreams: UpstreamRegistry;
  mapping: MappingSet;
  refreshTokenBox: SecretBox;
}

/**
 * Asks the upstream IdP whether it still vouches for the user (OAuth refresh grant with the stored,
 * encrypted refresh token), then applies the upstream's mapping rules to the fresh claims.
 *
 * `refused` when the IdP says no (`invalid_grant`: user disabled, consent revoked, token expired), the
 * rules now refuse the user, the upstream is no longer configured or the refresh token cannot be
 * decrypted (key rotated): the user must sign in again. Throws BridgeError ERR_UPSTREAM when the IdP
 * cannot be reached or answers garbage, and StoreUnavailableError never (no store access here).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export async function refreshUpstream(
  deps: UpstreamRefreshDeps,
  upstreamName: string,
  encryptedRefreshToken: string,
  options: { subject?: string } = {},
): Promise<UpstreamRefreshResult> {
  const upstream = deps.upstreams.get(upstreamName);
  if (!upstream) return { status: 'refused', reason: `upstream ${upstreamName} is no longer configured` };
  const refreshToken = deps.refreshTokenBox.open(encryptedRefreshToken, upstreamName);
  if (refreshToken === undefined) {
    return { status: 'refused', reason: 'stored upstream refresh token cannot be decrypted (key changed?)' };
  }
  const config = await deps.upstreams.configuration(upstreamName);
  let identity: Awaited<ReturnType<typeof collectUpstreamIdentity>>;
  let rotated: string | undefined;
  try {
    const response = await refreshTokenGrant(config, refreshToken);
    identity = await collectUpstreamIdentity(config, upstream, response, {
      expectedSubject: options.subject,
      groupLookup: deps.upstreams.groupLookup(upstreamName, config),
    });
    rotated = response.refresh_token;
  } catch (err) {
    const error = translateUpstreamError(err, upstreamName, 'refresh');
    if (error.code === 'ERR_OAUTH') return { status: 'refused', reason: error.message };
    throw error;
  }
  const outcome = deps.mapping.forUpstream(upstreamName).mapClaims(identity.claims);
  if (!outcome.ok) return { status: 'refused', reason: `${outcome.rule}: ${outcome.reason}` };
  return {
    status: 'ok',
    claims: identity.claims,
    user: outcome.user,
    ...(rotated && rotated !== refreshToken
      ? { upstreamRefreshToken: deps.refreshTokenBox.seal(rotated, upstreamName) }
      : {}),
  };
}
