import type { UpstreamConfig } from '../../config/index.js';
import type { Claims, UserInfo } from '../../core/identity.js';

/**
 * Why a login was started, carried through the upstream round trip in the stored login state. The
 * purpose decides how the login finishes (login/finish-login.ts).
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

/**
 * What the store keeps (namespace `login`, keyed by a hash of `state`) between the redirect to the
 * upstream and the callback. Single-use: the callback takes it.
 */
export interface LoginState {
  upstream: string;
  nonce: string;
  codeVerifier: string;
  purpose: LoginPurpose;
  createdAt: number;
  /** Hash of the browser-binding cookie: the callback must come from the browser that started. */
  browserBinding: string;
}
