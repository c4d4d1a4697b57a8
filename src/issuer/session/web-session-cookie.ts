import type Koa from 'koa';
import type { WebKit } from '../web/web-kit.js';

const COOKIE = 'kob-session';

/**
 * What the browser keeps after a sign-in, sealed (AES-256-GCM) in an HttpOnly cookie: the session id
 * (for the result page and sign-out) and the access token shown on the result page, so the page can be
 * reloaded without the server ever storing a raw token. Lives as long as the token.
 */
export interface WebSessionCookie {
  sessionId: string;
  upstream: string;
  token: string;
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
  const value = JSON.parse(text) as WebSessionCookie;
  return value.expiresAt > now ? value : undefined;
}

export function clearWebSession(ctx: Koa.Context, web: WebKit): void {
  web.cookies.clear(ctx, COOKIE);
}
