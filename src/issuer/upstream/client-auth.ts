import { createPrivateKey } from 'node:crypto';
import { importJWK, importPKCS8, type JWK } from 'jose';
import { type ClientAuth, ClientSecretBasic, ClientSecretPost, None, PrivateKeyJwt } from 'openid-client';
import type { UpstreamConfig } from '../../config/index.js';
import { ConfigError } from '../../core/errors.js';

/** JWS algorithm for a PEM private key, from its type (and curve). */
function algorithmForPem(pem: string): string {
  const key = createPrivateKey(pem);
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256';
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}

/**
 * How the issuer authenticates to an upstream's token endpoint, from the upstream's config.
 * `private_key_jwt` (RFC 7523) takes a PKCS#8 PEM or a private JWK (JSON, whose `kid` and `alg` are
 * used); the assertion is signed with jose through openid-client.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication
 */
export async function buildClientAuth(upstream: UpstreamConfig, path: string): Promise<ClientAuth> {
  const needSecret = (): string => {
    if (upstream.clientSecret) return upstream.clientSecret;
    throw new ConfigError([{ path: `${path}.clientSecret`, message: `required for ${upstream.clientAuth}` }]);
  };
  switch (upstream.clientAuth) {
    case 'client_secret_basic':
      return ClientSecretBasic(needSecret());
    case 'client_secret_post':
      return ClientSecretPost(needSecret());
    case 'none':
      return None();
    case 'private_key_jwt': {
      const text = upstream.privateKey?.trim();
      if (!text) {
        throw new ConfigError([{ path: `${path}.privateKey`, message: 'required for private_key_jwt' }]);
      }
      try {
        if (text.startsWith('{')) {
          const jwk = JSON.parse(text) as JWK;
          const alg = jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256');
          const key = await importJWK({ ...jwk, alg }, alg);
          if (key instanceof Uint8Array) throw new Error('not an asymmetric private key');
          return PrivateKeyJwt({ key, ...(jwk.kid ? { kid: jwk.kid } : {}) });
        }
        const key = await importPKCS8(text, algorithmForPem(text));
        return PrivateKeyJwt(key);
      } catch (err) {
        throw new ConfigError(
          [{ path: `${path}.privateKey`, message: `not a usable private key: ${(err as Error).message}` }],
          { cause: err },
        );
      }
    }
  }
}
