import type Koa from 'koa';

/**
 * The issuer's cookies: always `HttpOnly; SameSite=Lax; Path=/`, and `Secure` with the `__Host-`
 * name prefix (so no subdomain can plant or read them) unless the issuer runs on plain-http loopback
 * for development. Lax, not Strict: the upstream's redirect back to /callback is a cross-site
 * navigation that must carry the login-binding cookie.
 * @see https://www.rfc-editor.org/rfc/rfc6265bis#name-the-__host-prefix
 */
export class CookieJar {
  constructor(readonly secure: boolean) {}

  /** The cookie's name on the wire. */
  name(base: string): string {
    return this.secure ? `__Host-${base}` : base;
  }

  get(ctx: Koa.Context, base: string): string | undefined {
    const wanted = this.name(base);
    for (const part of (ctx.get('cookie') || '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === wanted) return decodeCookieValue(part.slice(eq + 1).trim());
    }
    return undefined;
  }

  /** Sets a cookie; `maxAgeSeconds` omitted makes it last until the browser closes. */
  set(ctx: Koa.Context, base: string, value: string, maxAgeSeconds?: number): void {
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax'];
    if (this.secure) attributes.push('Secure');
    if (maxAgeSeconds !== undefined) attributes.push(`Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`);
    ctx.append('Set-Cookie', `${this.name(base)}=${encodeURIComponent(value)}; ${attributes.join('; ')}`);
  }

  clear(ctx: Koa.Context, base: string): void {
    this.set(ctx, base, '', 0);
  }
}

/** A value we did not encode (not valid percent-encoding) is not one of ours: treat it as absent. */
function decodeCookieValue(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
