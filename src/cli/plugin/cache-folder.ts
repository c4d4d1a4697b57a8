import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  type Stats,
} from 'node:fs';

/**
 * The token cache folder holds credentials that kubectl trusts blindly, so the folder itself must be
 * trustworthy: a real folder (not a symlink someone pointed elsewhere), owned by the user running the
 * plugin, and writable by nobody else — otherwise another local user could plant a token (and run
 * kubectl as whoever it belongs to) or swap an entry for a symlink. Checked with lstat, on the fast
 * path too. Import-light: the fast path uses it.
 *
 * On Windows there are no Unix owners or modes to check; the folder lives in the user's profile.
 */

/** A cache folder the plugin will not use; the message says how to fix it. */
export class UntrustedCacheError extends Error {
  readonly code = 'ERR_PLUGIN';
  constructor(message: string) {
    super(message);
    this.name = 'UntrustedCacheError';
  }
}

/** `O_NOFOLLOW` where the platform has it (0 elsewhere): opening a symlink then fails with ELOOP. */
export const O_NOFOLLOW: number = constants.O_NOFOLLOW ?? 0;

/** Why a folder or file is refused, or undefined when it is fine. */
export type TrustProblem = string | undefined;

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** Checks what lstat says about a cache folder; `uid` defaults to the current user's. */
export function folderProblem(dir: string, stats: Stats, uid = currentUid()): TrustProblem {
  if (stats.isSymbolicLink()) {
    return `the token cache folder ${dir} is a symbolic link; remove it (rm ${dir}) or pass --cache-dir with a real folder`;
  }
  if (!stats.isDirectory()) {
    return `the token cache folder ${dir} is not a folder; remove it or pass --cache-dir`;
  }
  if (uid === undefined) return undefined;
  if (stats.uid !== uid) {
    return `the token cache folder ${dir} belongs to another user (uid ${stats.uid}, you are uid ${uid}); remove it (rm -r ${dir}) or pass --cache-dir with a folder of your own`;
  }
  if ((stats.mode & 0o022) !== 0) {
    return `the token cache folder ${dir} is writable by other users (mode ${(stats.mode & 0o7777).toString(8)}); someone may have planted a token there. Remove it (rm -r ${dir}) and log in again, or pass --cache-dir with a private folder`;
  }
  return undefined;
}

/** Checks an entry's fstat: a regular file of ours that nobody else can write. */
export function entryProblem(file: string, stats: Stats, uid = currentUid()): TrustProblem {
  if (!stats.isFile()) return `${file} is not a regular file`;
  if (uid === undefined) return undefined;
  if (stats.uid !== uid) return `${file} belongs to another user (uid ${stats.uid})`;
  if ((stats.mode & 0o022) !== 0) return `${file} is writable by other users`;
  return undefined;
}

/**
 * A cache folder file's text, read through one descriptor opened without following a symlink;
 * undefined when it is missing, unreadable, larger than `maxBytes`, or its fstat is refused by
 * `accept` (e.g. entryProblem).
 */
export function readCacheFile(
  file: string,
  maxBytes: number,
  accept: (stats: Stats) => boolean,
): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!accept(stats) || stats.size > maxBytes) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The problem with an existing cache folder, `missing` when there is none yet. */
export function inspectCacheDir(dir: string): TrustProblem | 'missing' {
  let stats: Stats;
  try {
    stats = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return `cannot inspect the token cache folder ${dir}: ${(err as Error).message}`;
  }
  return folderProblem(dir, stats);
}

/**
 * Creates the cache folder (0700) when missing, then verifies it; a folder of ours that others may
 * read (0755 from an old version or a umask) is tightened to 0700 through a no-follow handle. Throws
 * UntrustedCacheError naming the fix when the folder cannot be trusted.
 */
export function ensureTrustedCacheDir(dir: string): void {
  if (inspectCacheDir(dir) === 'missing') mkdirSync(dir, { recursive: true, mode: 0o700 });
  const problem = inspectCacheDir(dir);
  if (problem === 'missing')
    throw new UntrustedCacheError(`the token cache folder ${dir} disappeared while it was being created`);
  if (problem) throw new UntrustedCacheError(problem);
  if (currentUid() === undefined) return;
  const fd = openSync(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | O_NOFOLLOW);
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}
