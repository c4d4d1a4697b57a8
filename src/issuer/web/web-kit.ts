import { hkdfSync } from 'node:crypto';
import type { IssuerConfig } from '../../config/index.js';
import { ConfigError } from '../../core/errors.js';
import type { Metrics } from '../../http/index.js';
import { isLoopbackHttp } from '../../http/loopback-url.js';
import type { TokenStore } from '../../store/index.js';
import { MIN_KEY_BYTES, SecretBox } from '../upstream/secret-box.js';
import { CookieJar } from './cookie-jar.js';
import { CsrfGuard } from './csrf.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * What every issuer page needs, built once from the issuer config: cookies with the right flags,
 * CSRF tokens, sealed (encrypted) cookie values, the store-backed rate limiter and the public URL.
 * The CLI's /device page uses the same kit.
 */
export interface WebKit {
  publicURL: URL;
  cookies: CookieJar;
  csrf: CsrfGuard;
  /** Encrypts cookie values (key derived from issuer.cookieSecret). */
  cookieBox: SecretBox;
  rateLimiter: RateLimiter;
  /** `publicURL` + path, e.g. absoluteURL('/callback'). */
  absoluteURL(path: string): string;
}

export function createWebKit(
  issuer: IssuerConfig,
  store: TokenStore,
  metrics: Pick<Metrics, 'rateLimited'>,
): WebKit {
  const publicURL = new URL(issuer.publicURL);
  if (publicURL.protocol !== 'https:' && !isLoopbackHttp(publicURL)) {
    throw new ConfigError([
      {
        path: 'issuer.publicURL',
        message: 'must be https:// (plain http is accepted only on a loopback address, for development)',
      },
    ]);
  }
  const secret = Buffer.from(issuer.cookieSecret, 'utf8');
  if (secret.length < MIN_KEY_BYTES) {
    throw new ConfigError([
      { path: 'issuer.cookieSecret', message: `must be at least ${MIN_KEY_BYTES} bytes` },
    ]);
  }
  const cookies = new CookieJar(!isLoopbackHttp(publicURL));
  const csrfKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'kube-oidc-bridge csrf', 32));
  const base = publicURL.href.replace(/\/$/, '');
  return {
    publicURL,
    cookies,
    csrf: new CsrfGuard(csrfKey, cookies, publicURL.origin),
    cookieBox: new SecretBox(secret, 'cookie', 'issuer.cookieSecret'),
    rateLimiter: new RateLimiter(store, metrics),
    absoluteURL: (path) => `${base}${path}`,
  };
}
