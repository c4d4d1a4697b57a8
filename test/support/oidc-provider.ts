import type Koa from 'koa';
import {
  type IdpClient,
  type IdpUser,
  type LoopbackIdp,
  startLoopbackIdp,
} from '../../src/demo/loopback-idp.js';

export type { IdpClient, IdpUser };

/**
 * A real OpenID Provider (oidc-provider 9) on a free loopback port for tests: PKCE required, groups in
 * the ID token, a username/password form at /interaction/:uid, refresh tokens for clients allowed the
 * grant. Tests can make it misbehave for the next request of a kind (`failNext`, `rewriteNextAuthorization`).
 */
export interface TestIdp extends LoopbackIdp {
  users: IdpUser[];
  /**
   * The next request to `endpoint` fails: `authorization` redirects back to the client with
   * `error` (RFC 6749 §4.1.2.1); `token` answers `status` (default 400) with an OAuth error body.
   */
  failNext(endpoint: 'authorization' | 'token', error: string, status?: number): void;
  /** Replaces parameters of the next authorization request before the provider sees it. */
  rewriteNextAuthorization(params: Record<string, string>): void;
  /** Requests seen, `METHOD path?query` (for asserting what a client sent). */
  requests: string[];
}

export const DEFAULT_TEST_USERS: IdpUser[] = [
  {
    username: 'alice',
    password: 'alice-password',
    email: 'alice@example.com',
    name: 'Alice Admin',
    groups: ['platform', 'developers'],
  },
  {
    username: 'bob',
    password: 'bob-password',
    email: 'bob@example.net',
    name: 'Bob',
    groups: ['contractors'],
  },
];

export async function startTestIdp(options: {
  clients: IdpClient[];
  users?: IdpUser[];
  refreshTokens?: boolean;
}): Promise<TestIdp> {
  const failures = new Map<string, { error: string; status: number }>();
  let rewrite: Record<string, string> | undefined;
  const requests: string[] = [];
  const users = [...(options.users ?? DEFAULT_TEST_USERS)];

  const intercept: Koa.Middleware = async (ctx, next) => {
    requests.push(`${ctx.method} ${ctx.url}`);
    if (ctx.path === '/auth' && ctx.method === 'GET') {
      const failure = failures.get('authorization');
      if (failure) {
        failures.delete('authorization');
        const back = new URL(String(ctx.query['redirect_uri']));
        back.searchParams.set('error', failure.error);
        if (typeof ctx.query['state'] === 'string') back.searchParams.set('state', ctx.query['state']);
        back.searchParams.set('iss', idp.issuer);
        ctx.redirect(back.href);
        return;
      }
      if (rewrite) {
        const params = new URLSearchParams(ctx.querystring);
        for (const [k, v] of Object.entries(rewrite)) params.set(k, v);
        rewrite = undefined;
        ctx.querystring = params.toString();
      }
    }
    if (ctx.path === '/token' && ctx.method === 'POST') {
      const failure = failures.get('token');
      if (failure) {
        failures.delete('token');
        ctx.status = failure.status;
        ctx.body = { error: failure.error, error_description: 'failure requested by the test' };
        return;
      }
    }
    await next();
  };

  const idp = await startLoopbackIdp({
    clients: options.clients,
    users,
    intercept,
    ...(options.refreshTokens === undefined ? {} : { refreshTokens: options.refreshTokens }),
  });
  return {
    ...idp,
    users,
    requests,
    failNext: (endpoint, error, status = 400) => failures.set(endpoint, { error, status }),
    rewriteNextAuthorization: (params) => {
      rewrite = params;
    },
  };
}

/**
 * A minimal browser for driving login flows over HTTP without Chromium: fetch with manual redirects
 * and a cookie jar (per host:port; Max-Age=0 deletes). Enough for the issuer's and the IdP's pages.
 */
export class HttpBrowser {
  readonly cookies = new Map<string, Map<string, string>>();

  cookieHeader(url: string): string {
    const jar = this.cookies.get(new URL(url).host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  /** One request: sends this host's cookies, stores the ones set. Never follows redirects. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    const host = new URL(url).host;
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const jar = this.cookies.get(host) ?? new Map<string, string>();
      this.cookies.set(host, jar);
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1).trim());
    }
    return response;
  }

  /** Follows redirects (as GET, like a browser after 302/303) up to `max`; returns the last response. */
  async follow(
    url: string,
    init: RequestInit = {},
    max = 10,
  ): Promise<{ response: Response; url: string; visited: string[] }> {
    const visited = [url];
    let response = await this.request(url, init);
    let current = url;
    for (let i = 0; i < max && response.status >= 300 && response.status < 400; i++) {
      const location = response.headers.get('location');
      if (!location) break;
      current = new URL(location, current).href;
      visited.push(current);
      response = await this.request(current);
    }
    return { response, url: current, visited };
  }

  /** Posts a form (urlencoded) and follows the redirects. */
  submitForm(url: string, fields: Record<string, string>) {
    return this.follow(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/**
 * Signs in at the IdP's form: from `startUrl` (e.g. the issuer's /login/…) through the IdP's login page
 * and back, following every redirect. Returns where the browser ended up.
 */
export async function signInThroughIdp(
  browser: HttpBrowser,
  startUrl: string,
  user: { username: string; password: string },
): Promise<{ response: Response; url: string; body: string; visited: string[] }> {
  const toLogin = await browser.follow(startUrl);
  if (!/\/interaction\/[^/]+$/.test(new URL(toLogin.url).pathname)) {
    return { ...toLogin, body: await toLogin.response.text() };
  }
  await toLogin.response.text();
  const done = await browser.submitForm(`${toLogin.url}/login`, {
    username: user.username,
    password: user.password,
  });
  return { ...done, visited: [...toLogin.visited, ...done.visited], body: await done.response.text() };
}
