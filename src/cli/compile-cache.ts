import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Node's on-disk compile cache for the CLI. kubectl runs `kube-oidc-bridge login` before every
 * command; with the cache, V8 reuses the code it compiled for our modules last time instead of parsing
 * them again (docs/benchmarks.md has the measured gain). `module.enableCompileCache()` exists from
 * Node 22.1; on older runtimes this does nothing and the CLI runs exactly as before.
 *
 * Where the cache lives matters: a cache entry is code the next run executes, so whoever can write
 * the folder can run code as the user. Node's own default is a folder under the shared temporary
 * directory; this uses a per-user cache folder instead, and only when it is private (a real folder,
 * owned by the user, no access for group or others).
 */

/** `module.enableCompileCache` (Node ≥ 22.1). @types/node follows the oldest runtime we support, which lacks it. */
export type EnableCompileCache = (directory: string) => {
  status: number;
  message?: string;
  directory?: string;
};

/** What happened; the CLI ignores it (a cache is only a speed-up), tests read it. */
export type CompileCacheOutcome =
  /** Modules loaded from now on are compiled once and reused by later runs. */
  | 'enabled'
  /** This Node.js has no compile cache (before 22.1). */
  | 'unavailable'
  /** NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE is set: the user chose, Node applies it. */
  | 'left-to-node'
  /** Neither an absolute XDG_CACHE_HOME nor a home folder to put the cache in. */
  | 'no-folder'
  /** The folder exists but is not private (a link, someone else's, or open to group/others). */
  | 'unsafe-folder'
  /** The folder could not be created (read-only home in a container…) or Node refused it. */
  | 'failed';

/** The runtime's side, handed in so tests can play an older Node or another user. */
export interface CompileCacheHost {
  enable: EnableCompileCache | undefined;
  home: string | undefined;
  uid: number | undefined;
}

/** `$XDG_CACHE_HOME/kube-oidc-bridge/compile-cache`, else `~/.cache/kube-oidc-bridge/compile-cache`. */
export function compileCacheDir(
  env: Record<string, string | undefined>,
  home: string | undefined,
): string | undefined {
  // The XDG base directory spec: a relative path in XDG_CACHE_HOME is invalid and must be ignored.
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  if (base) return join(base, 'kube-oidc-bridge', 'compile-cache');
  return home ? join(home, '.cache', 'kube-oidc-bridge', 'compile-cache') : undefined;
}

/** This process's runtime: its `enableCompileCache` when it has one, home folder and user id. */
export function runtimeHost(): CompileCacheHost {
  let home: string | undefined;
  try {
    home = homedir();
  } catch {
    home = undefined;
  }
  return {
    enable: (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache,
    home,
    uid: process.getuid?.(),
  };
}

/** Turns the compile cache on when the runtime has one and a private per-user folder can hold it. Never throws. */
export function enableCompileCache(
  env: Record<string, string | undefined>,
  host: CompileCacheHost = runtimeHost(),
): CompileCacheOutcome {
  if (!host.enable) return 'unavailable';
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return 'left-to-node';
  const dir = compileCacheDir(env, host.home);
  if (!dir) return 'no-folder';
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const foreign = host.uid !== undefined && st.uid !== host.uid;
    if (!st.isDirectory() || foreign || (st.mode & 0o077) !== 0) return 'unsafe-folder';
    // Node sets `directory` exactly when the cache is on (status ENABLED or ALREADY_ENABLED).
    return host.enable(dir).directory ? 'enabled' : 'failed';
  } catch {
    return 'failed';
  }
}
