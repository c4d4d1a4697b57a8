import { closeSync, constants, futimesSync, lstatSync, openSync, rmSync } from 'node:fs';
import { O_NOFOLLOW } from './cache-folder.js';

/**
 * When kubectl is not interactive (a pipe, k9s, an IDE), nobody may be watching: a login that keeps
 * failing must not open a browser tab on every kubectl call. A marker file per cache entry remembers
 * the last launch; within `intervalSeconds` of it the plugin refuses with advice instead.
 *
 * The marker is looked at with lstat and written through a no-follow handle without truncation: a
 * symlink planted at its name must neither count as a launch nor get its target emptied.
 */
export const NON_INTERACTIVE_BROWSER_INTERVAL = 300;

/** True when no browser was launched for this entry within the interval. */
export function mayLaunchBrowser(markerPath: string, nowSeconds: number, intervalSeconds: number): boolean {
  try {
    const stats = lstatSync(markerPath);
    if (!stats.isFile()) return true;
    return nowSeconds - stats.mtimeMs / 1000 >= intervalSeconds;
  } catch {
    return true;
  }
}

/** Records a launch now. Throws (ELOOP) when the marker's name is a symlink. */
export function recordBrowserLaunch(markerPath: string, nowSeconds: number): void {
  const fd = openSync(markerPath, constants.O_WRONLY | constants.O_CREAT | O_NOFOLLOW, 0o600);
  try {
    const at = new Date(nowSeconds * 1000);
    futimesSync(fd, at, at);
  } finally {
    closeSync(fd);
  }
}

/** Forgets a launch that did not happen (the browser command failed): nothing was opened to wait for. */
export function forgetBrowserLaunch(markerPath: string): void {
  rmSync(markerPath, { force: true });
}
