import type { Configuration } from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import { mayLaunchBrowser, NON_INTERACTIVE_BROWSER_INTERVAL, recordBrowserLaunch } from './browser-brake.js';
import type { BrowserLauncher } from './browser-launcher.js';
import { cacheKey, cachePaths } from './cache-location.js';
import { loginWithDevice } from './device-login.js';
import { MIN_REMAINING_LIFETIME } from './exec-credential.js';
import { acquireLock } from './file-lock.js';
import type { IssuerTarget, LoginOptions } from './login-options.js';
import { loginWithLoopback } from './loopback-login.js';
import {
  type CachedAccessToken,
  type CacheEntry,
  ensureCacheDir,
  readCacheEntry,
  writeCacheEntry,
} from './token-cache.js';
import { refreshTokens } from './token-refresh.js';
import type { TokenSet } from './token-set.js';

/**
 * The plugin's use case: a valid access token for the wanted audience, from the cache, by a silent
 * refresh, or by an interactive login — in that order. Everything after the first cache read runs under
 * the cache entry's lock, and the cache is read again once the lock is ours: when several kubectl
 * processes start together, the first logs in and the others find its token (kubelogin#389, #904).
 */
export interface CredentialDeps {
  stderr: { write(chunk: string): unknown };
  /** Epoch seconds. */
  now: () => number;
  /** What KUBERNETES_EXEC_INFO said; false means nobody may be watching the terminal. */
  interactive: boolean;
  openBrowser: BrowserLauncher;
  connect: (target: IssuerTarget) => Promise<Configuration>;
  /** False for commands that must not start a login (`whoami`): they fail with advice instead. */
  allowLogin?: boolean;
}

/** Seconds between lock-file touches while a login waits for the user. */
const LOCK_TOUCH_INTERVAL_MS = 10_000;

export function entryFile(target: IssuerTarget): { file: string; lock: string; browserMarker: string } {
  return cachePaths(
    target.cacheDir,
    cacheKey({ issuer: target.issuer, clientId: target.clientId, upstream: target.upstream }),
  );
}

function usable(entry: CacheEntry | undefined, audience: string, now: number): CachedAccessToken | undefined {
  const cached = entry?.tokens[audience];
  return cached && cached.expiresAt - now >= MIN_REMAINING_LIFETIME ? cached : undefined;
}

/** The advice every "you must log in" error ends with. */
export function loginCommand(target: IssuerTarget): string {
  const parts = ['kube-oidc-bridge login', `--issuer ${target.issuer}`];
  if (target.audience) parts.push(`--audience ${target.audience}`);
  if (target.upstream) parts.push(`--upstream ${target.upstream}`);
  return parts.join(' ');
}

async function interactiveLogin(
  config: Configuration,
  options: LoginOptions,
  deps: CredentialDeps,
  browserMarker: string,
): Promise<TokenSet> {
  const common = {
    audience: options.audience,
    timeoutMs: options.timeoutMs,
    stderr: deps.stderr,
    now: deps.now,
  };
  if (!deps.interactive) {
    // kubectl without a terminal (pipe, k9s, IDE): a browser tab is the only way, and only now and then.
    const advice = `Log in from a terminal, then retry:\n\n  ${loginCommand(options)}\n`;
    if (options.device) throw new BridgeError('ERR_PLUGIN', `the device flow needs a terminal. ${advice}`);
    if (!mayLaunchBrowser(browserMarker, deps.now(), NON_INTERACTIVE_BROWSER_INTERVAL)) {
      throw new BridgeError(
        'ERR_PLUGIN',
        `not logged in, and kubectl is not interactive (a browser was already opened in the last ${NON_INTERACTIVE_BROWSER_INTERVAL / 60} minutes). ${advice}`,
      );
    }
    recordBrowserLaunch(browserMarker, deps.now());
    const result = await loginWithLoopback(config, {
      ...common,
      listenAddress: options.listenAddress,
      openBrowser: deps.openBrowser,
    });
    if (result.status === 'ok') return result.tokens;
    throw new BridgeError('ERR_PLUGIN', `not logged in, and no browser could be opened. ${advice}`);
  }
  if (options.device) return loginWithDevice(config, common);
  const result = await loginWithLoopback(config, {
    ...common,
    listenAddress: options.listenAddress,
    openBrowser: options.noBrowser ? undefined : deps.openBrowser,
  });
  if (result.status === 'ok') return result.tokens;
  deps.stderr.write('No browser could be opened here (set $BROWSER to choose one); using the device flow.\n');
  return loginWithDevice(config, common);
}

/** Returns a usable access token for `options.audience`, updating the cache. */
export async function obtainCredential(
  options: LoginOptions,
  deps: CredentialDeps,
): Promise<CachedAccessToken> {
  const audienceKey = options.audience ?? '';
  const paths = entryFile(options);
  const early = usable(readCacheEntry(paths.file), audienceKey, deps.now());
  if (early) return early;

  ensureCacheDir(options.cacheDir);
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
    const ready = usable(entry, audienceKey, deps.now());
    if (ready) return ready;

    const config = await deps.connect(options);
    let tokens: TokenSet | undefined;
    if (entry.refreshToken) {
      const refreshed = await refreshTokens(config, entry.refreshToken, options.audience, deps.now);
      if (refreshed.status === 'ok') {
        tokens = refreshed.tokens;
      } else {
        // Expired, revoked, or the IdP no longer accepts the user: drop the session and log in afresh.
        deps.stderr.write('The login session has ended; logging in again.\n');
        entry.refreshToken = undefined;
        entry.tokens = {};
        writeCacheEntry(paths.file, entry);
      }
    }
    if (!tokens && deps.allowLogin === false) {
      throw new BridgeError('ERR_PLUGIN', `not logged in. Log in with:\n\n  ${loginCommand(options)}\n`);
    }
    if (!tokens) tokens = await interactiveLogin(config, options, deps, paths.browserMarker);
    entry.tokens[audienceKey] = { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt };
    if (tokens.refreshToken) entry.refreshToken = tokens.refreshToken;
    writeCacheEntry(paths.file, entry);
    return entry.tokens[audienceKey];
  } finally {
    clearInterval(keepAlive);
    lock.release();
  }
}
