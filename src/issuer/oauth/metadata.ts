import type { Router } from '@koa/router';
import type { IssuerConfig } from '../../config/index.js';
import { endpointURL, issuerIdentifier, OAUTH_PATHS } from './issuer-identifier.js';

/**
 * Authorization server metadata (RFC 8414), served at both well-known locations so that clients doing
 * OAuth discovery and clients doing OpenID Connect discovery (openid-client's default) find it. The
 * issuer mints opaque access tokens and no ID tokens: `scopes_supported` is empty and there is no
 * `jwks_uri`; the userinfo endpoint answers with the identity the verifier would report.
 */
export function authorizationServerMetadata(config: IssuerConfig): Record<string, unknown> {
  return {
    issuer: issuerIdentifier(config),
    authorization_endpoint: endpointURL(config, OAUTH_PATHS.authorize),
    token_endpoint: endpointURL(config, OAUTH_PATHS.token),
    device_authorization_endpoint: endpointURL(config, OAUTH_PATHS.deviceAuthorization),
    revocation_endpoint: endpointURL(config, OAUTH_PATHS.revoke),
    userinfo_endpoint: endpointURL(config, OAUTH_PATHS.userinfo),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code',
    ],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [],
    authorization_response_iss_parameter_supported: true,
  };
}

export function registerMetadata(router: Router, config: IssuerConfig): void {
  const body = authorizationServerMetadata(config);
  for (const path of [OAUTH_PATHS.metadata, OAUTH_PATHS.openidMetadata]) {
    router.get(path, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = body;
    });
  }
}
