import type Koa from 'koa';
import type { WebKit } from '../web/web-kit.js';

const COOKIE = 'kob-session';

/**
 * What the browser keeps after a sign-in, sealed (AES-256-GCM) in an HttpOnly cookie: the session id
 * (for the result page and sign-out) and the access tokens shown on the result page, one per cluster,
 * so the page can be reloaded without the server ever storing a raw token. Lives as long as the tokens.
 */
export interface WebSessionCookie {
  sessionId: string;
  upstream: string;
  /** One token per configured cluster (by cluster name), each minted for that cluster's audience only. */
  tokens: { cluster: string; token: string }[];
  expiresAt: number;
}

export function writeWebSession(ctx: Koa.Context, web: WebKit, value: WebSessionCookie, now: number): void {
  web.cookies.set(ctx, COOKIE, web.cookieBox.seal(JSON.stringify(value), COOKIE), value.expiresAt - now);
}

/** The sealed cookie's content, or undefined when absent, tampered with or expired. */
export function readWebSession(ctx: Koa.Context, web: WebKit, now: number): WebSessionCookie | undefined {
  const sealed = web.cookies.get(ctx, COOKIE);
  const text = sealed ? web.cookieBox.open(sealed, COOKIE) : undefined;
  if (!text) return undefined;
  const value = JSON.parse(text) as Partial<WebSessionCookie>;
  // A cookie sealed by an older version (one token for every cluster) reads as absent: sign in again.
  if (!Array.isArray(value.tokens)) return undefined;
  return (value.expiresAt ?? 0) > now ? (value as WebSessionCookie) : undefined;
}

export function clearWebSession(ctx: Koa.Context, web: WebKit): void {
  web.cookies.clear(ctx, COOKIE);
}
