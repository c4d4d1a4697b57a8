import type { IssuerConfig } from '../../config/index.js';

/**
 * The issuer identifier (RFC 8414 §2): `issuer.publicURL` without a trailing slash. The metadata's
 * `issuer`, the `iss` authorization response parameter (RFC 9207) and every endpoint URL derive from
 * it, so a client comparing them byte for byte (openid-client does) finds them equal.
 */
export function issuerIdentifier(config: IssuerConfig): string {
  return config.publicURL.replace(/\/+$/, '');
}

/** Absolute URL of one of the issuer's endpoints. */
export function endpointURL(config: IssuerConfig, path: string): string {
  return `${issuerIdentifier(config)}${path}`;
}

/** Paths of the CLI's endpoints, mounted at the root of the issuer app. */
export const OAUTH_PATHS = {
  metadata: '/.well-known/oauth-authorization-server',
  openidMetadata: '/.well-known/openid-configuration',
  authorize: '/oauth2/authorize',
  authorizeContinue: '/oauth2/authorize/continue',
  token: '/oauth2/token',
  deviceAuthorization: '/oauth2/device_authorization',
  revoke: '/oauth2/revoke',
  userinfo: '/oauth2/userinfo',
  device: '/device',
  deviceConfirm: '/device/confirm',
} as const;
