/**
 * Redirect URIs of the CLI, a native app (RFC 8252). Only the loopback interface literal forms are
 * accepted, on any port (§7.3): `http://127.0.0.1:PORT/…` and `http://[::1]:PORT/…`.
 *
 * `http://localhost` (§8.3: NOT RECOMMENDED) is refused: the name may resolve to something other than
 * the loopback interface (a hosts file, a resolver), and our own CLI never uses it. Anything else
 * (other hosts, https, custom schemes, credentials or fragments in the URI) is refused too; the
 * authorization endpoint then shows an error page instead of redirecting, so it can never be used as
 * an open redirector.
 */
export type RedirectUriCheck = { ok: true; uri: string } | { ok: false; reason: string };

const LOOPBACK_LITERALS = new Set(['127.0.0.1', '[::1]']);

export function checkLoopbackRedirectUri(value: string | undefined): RedirectUriCheck {
  if (!value) return { ok: false, reason: 'redirect_uri is required' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'redirect_uri is not a URL' };
  }
  if (url.protocol !== 'http:')
    return { ok: false, reason: 'redirect_uri must use http on the loopback interface' };
  if (!LOOPBACK_LITERALS.has(url.hostname)) {
    return { ok: false, reason: 'redirect_uri must be http://127.0.0.1:PORT/… or http://[::1]:PORT/…' };
  }
  if (url.username || url.password) return { ok: false, reason: 'redirect_uri must not contain credentials' };
  if (url.hash || value.includes('#'))
    return { ok: false, reason: 'redirect_uri must not contain a fragment' };
  return { ok: true, uri: value };
}

/** Appends OAuth response parameters to a redirect URI (keeping any query it already has). */
export function redirectWith(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.href;
}
