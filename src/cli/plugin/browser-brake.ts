import { statSync, utimesSync, writeFileSync } from 'node:fs';

/**
 * When kubectl is not interactive (a pipe, k9s, an IDE), nobody may be watching: a login that keeps
 * failing must not open a browser tab on every kubectl call. A marker file per cache entry remembers
 * the last launch; within `intervalSeconds` of it the plugin refuses with advice instead.
 */
export const NON_INTERACTIVE_BROWSER_INTERVAL = 300;

/** True when no browser was launched for this entry within the interval. */
export function mayLaunchBrowser(markerPath: string, nowSeconds: number, intervalSeconds: number): boolean {
  try {
    return nowSeconds - statSync(markerPath).mtimeMs / 1000 >= intervalSeconds;
  } catch {
    return true;
  }
}

/** Records a launch now. */
export function recordBrowserLaunch(markerPath: string, nowSeconds: number): void {
  writeFileSync(markerPath, '', { mode: 0o600 });
  const at = new Date(nowSeconds * 1000);
  utimesSync(markerPath, at, at);
}
