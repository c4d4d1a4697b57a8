import { parseDuration } from '../../core/duration.js';
import { parseFlags, requireFlag } from '../args.js';
import { UsageError } from '../io.js';
import { DEFAULT_CLIENT_ID, defaultCacheDir } from './cache-location.js';
import type { TokenStoreKind } from './refresh-token-store.js';

/**
 * Flags shared by `login`, `logout` and `whoami`. The fast path (fast-path.ts) recognises the same
 * names; keep the two lists in step.
 */
export interface IssuerTarget {
  issuer: string;
  /** Cluster audience; undefined lets the issuer pick its only cluster. */
  audience?: string;
  clientId: string;
  upstream?: string;
  cacheDir: string;
  caFile?: string;
}

export interface LoginOptions extends IssuerTarget {
  /** Where to keep the refresh token; undefined keeps the cache entry's choice (file for a new one). */
  tokenStore?: TokenStoreKind;
  device: boolean;
  noBrowser: boolean;
  listenAddress?: string;
  /** How long to wait for the user to finish an interactive login. */
  timeoutMs: number;
}

export const TARGET_FLAGS = {
  issuer: { type: 'string' },
  audience: { type: 'string' },
  'client-id': { type: 'string' },
  upstream: { type: 'string' },
  'cache-dir': { type: 'string' },
  'ca-file': { type: 'string' },
} as const;

export const LOGIN_FLAGS = {
  ...TARGET_FLAGS,
  device: { type: 'boolean' },
  'no-browser': { type: 'boolean' },
  'listen-address': { type: 'string' },
  timeout: { type: 'string' },
  'token-store': { type: 'string' },
} as const;

export const TARGET_USAGE = `  --issuer URL          the kube-oidc-bridge issuer (required)
  --audience A          the cluster audience to get a token for (default: the issuer's only cluster)
  --client-id ID        the issuer's CLI client id (default ${DEFAULT_CLIENT_ID})
  --upstream NAME       which identity provider to log in with, when the issuer offers several
  --cache-dir DIR       token cache folder (default $XDG_CACHE_HOME/kube-oidc-bridge or ~/.kube/cache/kube-oidc-bridge)
  --ca-file FILE        PEM CA bundle to trust for the issuer's TLS certificate`;

type TargetValues = { [K in keyof typeof TARGET_FLAGS]?: string | undefined };

/** Builds the issuer target from parsed flags; `env` gives the default cache folder. */
export function toIssuerTarget(values: TargetValues, env: Record<string, string | undefined>): IssuerTarget {
  const cacheDir = values['cache-dir'] ?? defaultCacheDir(env);
  if (!cacheDir) throw new UsageError('no home folder known: pass --cache-dir');
  return {
    issuer: requireFlag(values.issuer, 'issuer'),
    audience: values.audience || undefined,
    clientId: values['client-id'] ?? DEFAULT_CLIENT_ID,
    upstream: values.upstream || undefined,
    cacheDir,
    caFile: values['ca-file'],
  };
}

/** Parses `login` flags. */
export function parseLoginOptions(
  argv: string[],
  env: Record<string, string | undefined>,
): LoginOptions | 'help' {
  const { values } = parseFlags(argv, LOGIN_FLAGS);
  if (values.help) return 'help';
  const timeout = values.timeout === undefined ? 300 : parseDuration(values.timeout);
  if (timeout === undefined || timeout <= 0)
    throw new UsageError('--timeout must be a duration like 90s or 5m');
  const tokenStore = values['token-store'];
  if (tokenStore !== undefined && tokenStore !== 'file' && tokenStore !== 'keyring')
    throw new UsageError('--token-store must be file or keyring');
  return {
    ...toIssuerTarget(values, env),
    device: values.device ?? false,
    noBrowser: values['no-browser'] ?? false,
    listenAddress: values['listen-address'],
    timeoutMs: timeout * 1000,
    tokenStore,
  };
}
