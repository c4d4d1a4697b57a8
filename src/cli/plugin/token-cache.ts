import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAcceptableToken } from './bearer-token.js';
import { ensureTrustedCacheDir, entryProblem, readCacheFile } from './cache-folder.js';
import { writePrivateFile } from './private-file.js';

/**
 * The on-disk token cache: one JSON file per issuer + client options (see cache-location.ts), in a
 * folder only the user can enter (0700, checked by cache-folder.ts), files only the user can read
 * (0600). Entries are opened without following symlinks and only trusted when they are regular files
 * of ours. Import-light: the fast path reads it.
 */

/** An access token for one audience (cluster). `expiresAt` in epoch seconds. */
export interface CachedAccessToken {
  accessToken: string;
  expiresAt: number;
}

export interface CacheEntry {
  version: 1;
  issuer: string;
  clientId: string;
  /** Access tokens by audience; `''` is the issuer's default audience. */
  tokens: Record<string, CachedAccessToken>;
  /** Shared by every audience: the issuer mints tokens for any of its clusters from one login. */
  refreshToken?: string;
  /** Set when the refresh token is in the OS keyring instead (refresh-token-store.ts). */
  refreshTokenIn?: 'keyring';
}

/** A cache file larger than this is not ours (a few tokens per cluster are a few KiB). */
const MAX_ENTRY_BYTES = 256 * 1024;

/** The file's text when it is a regular file of ours within the size cap; never follows a symlink. */
function readOwnFile(file: string): string | undefined {
  return readCacheFile(file, MAX_ENTRY_BYTES, (stats) => entryProblem(file, stats) === undefined);
}

function validTokens(tokens: unknown): tokens is Record<string, CachedAccessToken> {
  if (typeof tokens !== 'object' || tokens === null) return false;
  return Object.values(tokens).every(
    (t: Partial<CachedAccessToken>) => isAcceptableToken(t?.accessToken) && typeof t.expiresAt === 'number',
  );
}

/** Reads an entry; undefined when missing, unreadable or not trustworthy (that means "log in again"). */
export function readCacheEntry(file: string): CacheEntry | undefined {
  const text = readOwnFile(file);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as CacheEntry;
    if (parsed?.version !== 1 || !validTokens(parsed.tokens)) return undefined;
    if (parsed.refreshToken !== undefined && !isAcceptableToken(parsed.refreshToken)) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

/**
 * Creates the cache folder (0700), or checks an existing one: refused with advice when it is a
 * symlink, another user's, or writable by others; tightened when it is only readable by others.
 */
export function ensureCacheDir(dir: string): void {
  ensureTrustedCacheDir(dir);
}

/**
 * Writes an entry atomically: a new 0600 file next to the target, then rename(2), so a concurrent
 * reader sees either the old or the new file, never half of one. rename replaces a symlink planted at
 * the entry's name instead of writing through it.
 */
export function writeCacheEntry(file: string, entry: CacheEntry): void {
  ensureCacheDir(dirname(file));
  writePrivateFile(file, JSON.stringify(entry));
}

/** Deletes an entry; true when there was one. */
export function removeCacheEntry(file: string): boolean {
  try {
    rmSync(file);
    return true;
  } catch {
    return false;
  }
}
