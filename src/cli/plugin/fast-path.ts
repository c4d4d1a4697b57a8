import { inspectCacheDir } from './cache-folder.js';
import { cacheKey, cachePaths, DEFAULT_CLIENT_ID, defaultCacheDir } from './cache-location.js';
import { formatExecCredential, MIN_REMAINING_LIFETIME, readExecInfo } from './exec-credential.js';
import { kubectlParent, recordHandedToken, wasHandedBefore } from './refused-token.js';
import { readCacheEntry } from './token-cache.js';

/**
 * kubectl runs `kube-oidc-bridge login` before every command (docs/design.md §5). When the cache holds a token
 * with enough life left, this answers without loading the OAuth client, the HTTP stack or the flag
 * parser: only node:fs, node:crypto and node:path (through the modules imported above).
 *
 * Anything unusual (unknown flag, --help, no cache folder, a cache folder that cannot be trusted, no
 * token, a token this kubectl already had refused) returns false and the full login path takes over,
 * which handles every case properly (and says what is wrong).
 */

/** The login flags that decide which cache entry answers. Must match login-options.ts. */
const VALUE_FLAGS = new Set([
  'issuer',
  'audience',
  'client-id',
  'upstream',
  'cache-dir',
  'listen-address',
  'ca-file',
  'timeout',
  'token-store',
]);
const BOOLEAN_FLAGS = new Set(['device', 'no-browser']);

function scanFlags(argv: string[]): Map<string, string> | undefined {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) return undefined;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (BOOLEAN_FLAGS.has(name) && eq === -1) continue;
    if (!VALUE_FLAGS.has(name) || flags.has(name)) return undefined;
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return undefined;
    flags.set(name, value);
  }
  return flags;
}

export interface FastPathIO {
  stdout: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  /** Epoch seconds. */
  now: () => number;
  /** `process.ppid`: the kubectl that runs us (refused-token.ts). */
  parentPid: number;
}

/** Writes the cached ExecCredential and returns true, or returns false to fall through. */
export function answerFromCache(argv: string[], io: FastPathIO): boolean {
  const flags = scanFlags(argv);
  const issuer = flags?.get('issuer');
  if (!flags || !issuer) return false;
  const info = readExecInfo(io.env.KUBERNETES_EXEC_INFO);
  if ('error' in info) return false;
  const dir = flags.get('cache-dir') ?? defaultCacheDir(io.env);
  if (!dir || inspectCacheDir(dir) !== undefined) return false;
  const key = cacheKey({
    issuer,
    clientId: flags.get('client-id') ?? DEFAULT_CLIENT_ID,
    upstream: flags.get('upstream'),
  });
  const paths = cachePaths(dir, key);
  const entry = readCacheEntry(paths.file);
  const cached = entry?.tokens[flags.get('audience') ?? ''];
  if (!cached || cached.expiresAt - io.now() < MIN_REMAINING_LIFETIME) return false;
  const parent = kubectlParent(info.byHand, io.parentPid);
  if (parent !== undefined) {
    if (wasHandedBefore(paths.handed, parent, cached.accessToken)) return false;
    recordHandedToken(paths.handed, parent, cached.accessToken);
  }
  io.stdout.write(formatExecCredential(info.apiVersion, cached.accessToken, cached.expiresAt));
  return true;
}
