import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import type { UpstreamJwtVerifier } from './claim-sources.js';
import type { DirectoryFetch } from './directory-fetch.js';

/** Asymmetric algorithms only: a claims JWT is signed with the upstream's published keys, never a shared secret. */
const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/**
 * Verifies claims JWTs (aggregated claims, distributed endpoints answering a JWT) with the upstream's
 * JWKS and requires its issuer. The key set is fetched lazily and cached by jose.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AggregatedDistributedClaims
 */
export function createUpstreamJwtVerifier(
  issuer: string,
  jwksUri: string,
  fetch?: DirectoryFetch,
): UpstreamJwtVerifier {
  const keys = createRemoteJWKSet(new URL(jwksUri), {
    timeoutDuration: 5000,
    ...(fetch ? { [customFetch]: fetch } : {}),
  });
  return async (jwt) => {
    const { payload } = await jwtVerify(jwt, keys, { issuer, algorithms: ALLOWED_ALGORITHMS });
    return payload as Record<string, unknown>;
  };
}
