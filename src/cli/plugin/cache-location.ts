import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * Where the token cache lives and how a cache entry is named. Import-light on purpose (fast path).
 *
 * One file per issuer + client options, not per audience: the refresh token rotates on every use, so
 * two files holding the same refresh-token family would invalidate each other (and a stale copy used
 * after the grace window revokes the whole family). The file holds one access token per audience.
 */
/** The issuer's default `issuer.cli.clientID`. */
export const DEFAULT_CLIENT_ID = 'kube-oidc-bridge';

export interface CacheKeyInput {
  issuer: string;
  clientId: string;
  /** Upstream IdP chosen with --upstream, when the issuer has several. */
  upstream?: string;
}

/**
 * Default folder: `$XDG_CACHE_HOME/kube-oidc-bridge`, else `~/.kube/cache/kube-oidc-bridge` (next to
 * kubectl's own discovery cache). Undefined when no home folder is known.
 */
export function defaultCacheDir(env: Record<string, string | undefined>): string | undefined {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'kube-oidc-bridge');
  const home = env.HOME || env.USERPROFILE;
  return home ? join(home, '.kube', 'cache', 'kube-oidc-bridge') : undefined;
}

/** The issuer URL as a key: without a trailing slash, so `https://x/` and `https://x` share a cache. */
export function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

/** File name stem of a cache entry: a hash, so no URL characters reach the file system. */
export function cacheKey(input: CacheKeyInput): string {
  const material = JSON.stringify([normalizeIssuer(input.issuer), input.clientId, input.upstream ?? '']);
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

/** The files of one cache entry. */
export interface CachePaths {
  /** The tokens. */
  file: string;
  /** Held across a refresh or login. */
  lock: string;
  /** The non-interactive browser brake (browser-brake.ts). */
  browserMarker: string;
  /** Which token went to which kubectl process (refused-token.ts). */
  handed: string;
}

/** Paths of one cache entry. */
export function cachePaths(dir: string, key: string): CachePaths {
  return {
    file: join(dir, `${key}.json`),
    lock: join(dir, `${key}.lock`),
    browserMarker: join(dir, `${key}.browser`),
    handed: join(dir, `${key}.handed`),
  };
}
