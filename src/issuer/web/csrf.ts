import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type { CookieJar } from './cookie-jar.js';

const BINDING_COOKIE = 'kob-csrf';
/** The binding cookie outlives any page a person keeps open. */
const BINDING_MAX_AGE = 12 * 3600;

/**
 * CSRF protection for the issuer's forms: a random per-browser secret in an HttpOnly cookie, and in
 * each form an HMAC of it under the server key (a signed double-submit token). Stateless, so it works
 * across replicas. Verification also refuses a cross-site request, by `Sec-Fetch-Site` or `Origin`
 * (when the browser sends them).
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */
export class CsrfGuard {
  readonly #key: Buffer;

  constructor(
    key: Buffer,
    private readonly cookies: CookieJar,
    private readonly publicOrigin: string,
  ) {
    this.#key = key;
  }

  /** The token to put in a form's hidden `csrf` field; sets the binding cookie when missing. */
  token(ctx: Koa.Context): string {
    let binding = this.cookies.get(ctx, BINDING_COOKIE);
    if (!binding) {
      binding = randomBytes(32).toString('base64url');
      this.cookies.set(ctx, BINDING_COOKIE, binding, BINDING_MAX_AGE);
    }
    return this.#sign(binding);
  }

  /** True when `submitted` is the token for this browser's binding cookie and the origin is ours. */
  verify(ctx: Koa.Context, submitted: string | null | undefined): boolean {
    // Fetch metadata first: browsers send `Origin: null` on form posts from a no-referrer page.
    const site = ctx.get('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none') return false;
    const origin = ctx.get('origin');
    if (origin && origin !== 'null' && origin !== this.publicOrigin) return false;
    const binding = this.cookies.get(ctx, BINDING_COOKIE);
    if (!binding || !submitted) return false;
    const expected = Buffer.from(this.#sign(binding));
    const given = Buffer.from(submitted);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  #sign(binding: string): string {
    return createHmac('sha256', this.#key).update(`csrf:${binding}`).digest('base64url');
  }
}
