import {
  type Configuration,
  fetchUserInfo,
  skipSubjectCheck,
  type TokenEndpointResponse,
  type TokenEndpointResponseHelpers,
} from 'openid-client';
import type { UpstreamConfig } from '../../config/index.js';
import { BridgeError } from '../../core/errors.js';
import type { Claims } from '../../core/identity.js';
import {
  DEFAULT_GROUP_SETTINGS,
  GROUP_SOURCES_CLAIM,
  type GroupLookupDeps,
  type GroupSettings,
  resolveUpstreamGroups,
} from '../../directory/index.js';
import { translateUpstreamError } from './upstream-errors.js';

/** Who the upstream says signed in, and the claims kept for the mapping. */
export interface UpstreamIdentity {
  issuer: string;
  subject: string;
  /** Reduced to the upstream's `claims` allow-list. */
  claims: Claims;
}

/** Keeps only the allow-listed claims, so a large IdP token does not bloat every stored token. */
export function allowListClaims(claims: Claims, allowList: readonly string[]): Claims {
  const kept: Claims = {};
  for (const name of allowList) if (claims[name] !== undefined) kept[name] = claims[name];
  return kept;
}

/** The upstream's group settings, or the defaults (follow claim sources, no directory, no filter). */
export function groupSettingsOf(upstream: UpstreamConfig): GroupSettings {
  return (upstream.groups as GroupSettings | undefined) ?? DEFAULT_GROUP_SETTINGS;
}

/**
 * Claims from a (validated) token endpoint response: the ID token's, plus userinfo when the upstream
 * says `useUserinfo` or when the response carries no ID token (a refresh often does not). Userinfo
 * never overrides `iss` or `sub`: openid-client checks the userinfo `sub` against the ID token's.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse
 */
export async function collectUpstreamIdentity(
  config: Configuration,
  upstream: UpstreamConfig,
  response: TokenEndpointResponse & TokenEndpointResponseHelpers,
  options: { expectedSubject?: string | undefined; groupLookup: GroupLookupDeps },
): Promise<UpstreamIdentity> {
  const { expectedSubject } = options;
  const idToken = response.claims();
  if (idToken && expectedSubject !== undefined && idToken.sub !== expectedSubject) {
    throw new BridgeError('ERR_UPSTREAM', `upstream ${upstream.name}: ID token is for another subject`);
  }
  let merged: Claims = { ...idToken };
  let groupsFromUserinfo = false;
  if (upstream.useUserinfo || !idToken) {
    try {
      const subject = idToken?.sub ?? expectedSubject ?? skipSubjectCheck;
      const userinfo = await fetchUserInfo(config, response.access_token, subject);
      merged = { ...merged, ...userinfo };
      groupsFromUserinfo = userinfo[groupSettingsOf(upstream).claim] !== undefined;
    } catch (err) {
      throw translateUpstreamError(err, upstream.name, 'userinfo');
    }
  }
  const issuer = idToken?.iss ?? config.serverMetadata().issuer;
  const subject = idToken?.sub ?? (typeof merged['sub'] === 'string' ? merged['sub'] : undefined);
  if (!subject)
    throw new BridgeError('ERR_UPSTREAM', `upstream ${upstream.name}: no subject in the response`);
  merged = { ...merged, iss: issuer, sub: subject };
  // Groups beyond the token (claim sources, a directory), filtered before anything is stored.
  const settings = groupSettingsOf(upstream);
  const { claims } = await resolveUpstreamGroups(options.groupLookup, {
    settings,
    wanted: upstream.claims,
    claims: merged,
    directSource: groupsFromUserinfo ? 'userinfo' : 'token',
    upstreamAccessToken: response.access_token,
  });
  return { issuer, subject, claims: allowListClaims(claims, [...upstream.claims, GROUP_SOURCES_CLAIM]) };
}
