import type { UpstreamConfig } from '../../config/index.js';
import type { Claims, UserInfo } from '../../core/identity.js';

/**
 * Why a login was started, carried through the upstream round trip in the stored login state. The
 * purpose decides how the login finishes (login/finish.ts).
 */
export type LoginPurpose =
  | { kind: 'web' }
  | { kind: 'cli-authorize'; requestId: string }
  | { kind: 'device'; deviceId: string };

/** A login the upstream vouched for and the mapping rules accepted. */
export interface CompletedLogin {
  upstream: UpstreamConfig;
  /** The upstream's issuer identifier (`iss` of the ID token). */
  upstreamIssuer: string;
  subject: string;
  /** Upstream claims reduced to the upstream's `claims` allow-list: what the session keeps. */
  claims: Claims;
  /** The identity the verifier will derive from `claims` (mapped and validated). */
  user: UserInfo;
  /** The upstream refresh token, already encrypted with the issuer's SecretBox. */
  upstreamRefreshToken?: string;
}
