import { BridgeError } from '../../core/errors.js';
import { isAcceptableToken } from './bearer-token.js';
import type { CacheEntry } from './token-cache.js';

/**
 * Where the refresh token lives: in the cache file (the default) or in the OS keyring (Secret Service
 * on Linux, Keychain on macOS, Credential Manager on Windows) with `--token-store keyring`. The
 * refresh token is the long-lived secret; the short-lived access tokens stay in the cache file either
 * way, so the fast path (every kubectl command) keeps its cost and never touches the keyring.
 *
 * The cache entry records where its refresh token is (`refreshTokenIn`), so `whoami` and `logout`
 * find it without the flag. The keyring binding is a native module, loaded only when used.
 */
export type TokenStoreKind = 'file' | 'keyring';

/** One keyring item, as the native binding exposes it. */
export interface KeyringItem {
  getPassword(): string | null | undefined;
  setPassword(password: string): void;
  deletePassword(): boolean;
}
export type KeyringOpener = (service: string, account: string) => Promise<KeyringItem>;

export const KEYRING_SERVICE = 'kube-oidc-bridge';

/** The real OS keyring through @napi-rs/keyring. */
export const openOsKeyring: KeyringOpener = async (service, account) => {
  let binding: { Entry: new (service: string, account: string) => KeyringItem };
  try {
    binding = (await import('@napi-rs/keyring')) as never;
  } catch (err) {
    throw new BridgeError(
      'ERR_PLUGIN',
      `the OS keyring is not available in this build (${(err as Error).message}); use --token-store file`,
      { cause: err },
    );
  }
  return new binding.Entry(service, account);
};

export interface RefreshTokenStore {
  read(entry: CacheEntry): Promise<string | undefined>;
  /** Stores the token where `wanted` says (or forgets it with undefined), updating the entry's marker. */
  write(entry: CacheEntry, token: string | undefined): Promise<void>;
}

function keyringError(err: unknown, what: string): BridgeError {
  if (err instanceof BridgeError) return err;
  return new BridgeError(
    'ERR_PLUGIN',
    `${what} the OS keyring failed (${(err as Error).message}); is a Secret Service (gnome-keyring, KWallet) running and unlocked? Or use --token-store file`,
    { cause: err },
  );
}

/**
 * The store for one cache entry; `account` names its keyring item (the cache entry's key), `wanted`
 * is the --token-store flag (undefined: keep whatever the entry uses).
 */
export function refreshTokenStore(
  account: string,
  wanted: TokenStoreKind | undefined,
  openKeyring: KeyringOpener = openOsKeyring,
): RefreshTokenStore {
  const item = () => openKeyring(KEYRING_SERVICE, account);
  return {
    async read(entry) {
      if (entry.refreshTokenIn !== 'keyring') return entry.refreshToken;
      let token: string | null | undefined;
      try {
        token = (await item()).getPassword();
      } catch (err) {
        throw keyringError(err, 'reading the refresh token from');
      }
      return isAcceptableToken(token) ? token : undefined;
    },
    async write(entry, token) {
      const target = wanted ?? (entry.refreshTokenIn === 'keyring' ? 'keyring' : 'file');
      try {
        if (target === 'keyring') {
          const keyring = await item();
          if (token) keyring.setPassword(token);
          else keyring.deletePassword();
          entry.refreshToken = undefined;
          entry.refreshTokenIn = token ? 'keyring' : undefined;
          return;
        }
        if (entry.refreshTokenIn === 'keyring') (await item()).deletePassword();
      } catch (err) {
        throw keyringError(err, 'storing the refresh token in');
      }
      entry.refreshToken = token;
      entry.refreshTokenIn = undefined;
    },
  };
}
