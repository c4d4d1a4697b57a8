import type Koa from 'koa';

/**
 * Headers on every issuer response (docs/design.md §6.4). Pages load only same-origin scripts and styles (no
 * inline script at all), cannot be framed (clickjacking on the token page), never leak the URL (which
 * may hold an authorization code) in a Referer, and are not cached by default: the result page shows a
 * bearer token; an https issuer sends HSTS. Forms may post to the issuer and to the upstream IdPs (Chrome applies `form-action` to
 * the redirects that follow a form post, and the device page's form ends at the IdP).
 */
export function securityHeaders(formActionOrigins: readonly string[], https: boolean): Koa.Middleware {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    `form-action 'self'${formActionOrigins.map((o) => ` ${o}`).join('')}`,
    "frame-ancestors 'none'",
  ].join('; ');
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    // RFC 6797: once a browser has seen the issuer over https it never tries plain http again (no
    // downgrade to steal the session cookie). Sent whenever the public URL is https, also behind a
    // TLS-terminating proxy; a browser ignores it over plain http anyway.
    if (https) ctx.set('Strict-Transport-Security', 'max-age=31536000');
    await next();
  };
}
