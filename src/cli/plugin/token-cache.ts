import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { writePrivateFile } from './private-file.js';

/**
 * The on-disk token cache: one JSON file per issuer + client options (see cache-location.ts), in a
 * folder only the user can enter (0700), files only the user can read (0600). Import-light: the fast
 * path reads it.
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
}

/** Reads an entry; undefined when missing or unreadable (a broken cache means "log in again"). */
export function readCacheEntry(file: string): CacheEntry | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as CacheEntry;
    if (parsed?.version !== 1 || typeof parsed.tokens !== 'object' || parsed.tokens === null)
      return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

/** Creates the cache folder (0700) and tightens it if it already existed with a wider mode. */
export function ensureCacheDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Writes an entry atomically: a new 0600 file next to the target, then rename(2), so a concurrent
 * reader sees either the old or the new file, never half of one.
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
