import { basename } from 'node:path';
import type { Configuration } from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import type { BrowserLauncher } from './browser-launcher.js';
import { type CachePaths, cacheKey, cachePaths } from './cache-location.js';
import { MIN_REMAINING_LIFETIME } from './exec-credential.js';
import { acquireLock } from './file-lock.js';
import { loginCommand, loginWithUser } from './interactive-login.js';
import type { IssuerTarget, LoginOptions } from './login-options.js';
import { refreshTokenStore } from './refresh-token-store.js';
import { recordHandedToken, wasHandedBefore } from './refused-token.js';
import {
  type CachedAccessToken,
  type CacheEntry,
  ensureCacheDir,
  readCacheEntry,
  writeCacheEntry,
} from './token-cache.js';
import { refreshTokens } from './token-refresh.js';
import type { TokenSet } from './token-set.js';

export { loginCommand } from './interactive-login.js';

/**
 * The plugin's use case: a valid access token for the wanted audience, from the cache, by a silent
 * refresh, or by an interactive login — in that order. Everything after the first cache read runs under
 * the cache entry's lock, and the cache is read again once the lock is ours: when several kubectl
 * processes start together, the first logs in and the others find its token (kubelogin#389, #904).
 *
 * A cached token this kubectl already had (so the cluster refused it: refused-token.ts) does not count
 * as usable; the refresh replaces it.
 */
export interface CredentialDeps {
  stderr: { write(chunk: string): unknown };
  /** Epoch seconds. */
  now: () => number;
  /** What KUBERNETES_EXEC_INFO said; false means nobody may be watching the terminal. */
  interactive: boolean;
  browser: BrowserLauncher;
  connect: (target: IssuerTarget) => Promise<Configuration>;
  /** False for commands that must not start a login (`whoami`): they fail with advice instead. */
  allowLogin?: boolean;
  /** The kubectl process running us (`process.ppid`), when kubectl runs us; see refused-token.ts. */
  parentPid?: number;
  /** The OS keyring (refresh-token-store.ts); tests hand in their own. */
  openKeyring?: Parameters<typeof refreshTokenStore>[2];
}

/** Seconds between lock-file touches while a login waits for the user. */
const LOCK_TOUCH_INTERVAL_MS = 10_000;

export function entryFile(target: IssuerTarget): CachePaths {
  return cachePaths(
    target.cacheDir,
    cacheKey({ issuer: target.issuer, clientId: target.clientId, upstream: target.upstream }),
  );
}

/** The cached token for `audience` when it has life left: `refused` when this kubectl already had it. */
function lookUp(
  entry: CacheEntry | undefined,
  audience: string,
  deps: CredentialDeps,
  paths: CachePaths,
): { status: 'usable'; token: CachedAccessToken } | { status: 'refused' | 'none' } {
  const cached = entry?.tokens[audience];
  if (!cached || cached.expiresAt - deps.now() < MIN_REMAINING_LIFETIME) return { status: 'none' };
  if (deps.parentPid !== undefined && wasHandedBefore(paths.handed, deps.parentPid, cached.accessToken)) {
    return { status: 'refused' };
  }
  return { status: 'usable', token: cached };
}

/** Marks the answer as handed to this kubectl (refused-token.ts) and returns it. */
function handOut(token: CachedAccessToken, deps: CredentialDeps, paths: CachePaths): CachedAccessToken {
  if (deps.parentPid !== undefined) recordHandedToken(paths.handed, deps.parentPid, token.accessToken);
  return token;
}

/** Returns a usable access token for `options.audience`, updating the cache. */
export async function obtainCredential(
  options: LoginOptions,
  deps: CredentialDeps,
): Promise<CachedAccessToken> {
  const audienceKey = options.audience ?? '';
  const paths = entryFile(options);
  ensureCacheDir(options.cacheDir);
  const early = lookUp(readCacheEntry(paths.file), audienceKey, deps, paths);
  if (early.status === 'usable') return handOut(early.token, deps, paths);

  const lock = await acquireLock(paths.lock, {
    timeoutMs: options.timeoutMs + 30_000,
    staleAfterMs: Math.max(3 * LOCK_TOUCH_INTERVAL_MS, 60_000),
  });
  const keepAlive = setInterval(() => lock.touch(), LOCK_TOUCH_INTERVAL_MS);
  keepAlive.unref();
  try {
    const entry: CacheEntry = readCacheEntry(paths.file) ?? {
      version: 1,
      issuer: options.issuer,
      clientId: options.clientId,
      tokens: {},
    };
    const ready = lookUp(entry, audienceKey, deps, paths);
    if (ready.status === 'usable') return handOut(ready.token, deps, paths);
    if (ready.status === 'refused')
      deps.stderr.write('The cluster refused the cached token; getting a new one.\n');

    const store = refreshTokenStore(basename(paths.file, '.json'), options.tokenStore, deps.openKeyring);
    const refreshToken = await store.read(entry);
    const config = await deps.connect(options);
    let tokens: TokenSet | undefined;
    if (refreshToken) {
      const refreshed = await refreshTokens(config, refreshToken, options.audience, deps.now);
      if (refreshed.status === 'ok') {
        tokens = refreshed.tokens;
      } else {
        // Expired, revoked, or the IdP no longer accepts the user: drop the session and log in afresh.
        deps.stderr.write('The login session has ended; logging in again.\n');
        await store.write(entry, undefined);
        entry.tokens = {};
        writeCacheEntry(paths.file, entry);
      }
    }
    if (!tokens && deps.allowLogin === false) {
      throw new BridgeError('ERR_PLUGIN', `not logged in. Log in with:\n\n  ${loginCommand(options)}\n`);
    }
    if (!tokens) tokens = await loginWithUser(config, options, deps, paths.browserMarker);
    entry.tokens[audienceKey] = { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt };
    if (tokens.refreshToken) await store.write(entry, tokens.refreshToken);
    writeCacheEntry(paths.file, entry);
    return handOut(entry.tokens[audienceKey], deps, paths);
  } finally {
    clearInterval(keepAlive);
    lock.release();
  }
}
