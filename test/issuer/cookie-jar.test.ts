import type Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { CookieJar } from '../../src/issuer/web/cookie-jar.js';

function requestWithCookies(header: string): Koa.Context {
  return { get: (name: string) => (name.toLowerCase() === 'cookie' ? header : '') } as unknown as Koa.Context;
}

describe('issuer cookies', () => {
  // Regression: a cookie value that is not valid percent-encoding threw URIError, so every page that
  // reads cookies (result, sign-out, device, callback) answered 500 until the browser dropped it.
  it('reads a malformed cookie value as absent and still reads the others', () => {
    const jar = new CookieJar(false);
    const ctx = requestWithCookies('kob-session=%E0%A4%A; kob-csrf=abc%2Fdef');
    expect(jar.get(ctx, 'kob-session')).toBeUndefined();
    expect(jar.get(ctx, 'kob-csrf')).toBe('abc/def');
  });

  it('uses the __Host- name when secure, and ignores the unprefixed cookie then', () => {
    const jar = new CookieJar(true);
    const ctx = requestWithCookies('kob-login=planted; __Host-kob-login=mine');
    expect(jar.get(ctx, 'kob-login')).toBe('mine');
  });
});
