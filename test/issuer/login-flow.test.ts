import { randomPKCECodeVerifier } from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { hashCredential } from '../../src/core/token-format.js';
import type { LoginState } from '../../src/issuer/index.js';
import { HttpBrowser, signInThroughIdp, type TestIdp } from '../support/oidc-provider.js';
import {
  CORP_MAPPING,
  corpUpstream,
  csrfOnPage,
  freePort,
  type IssuerUnderTest,
  review,
  startIdpFor,
  startIssuerUnderTest,
  tokenOnPage,
} from './issuer-fixture.js';

/**
 * Browser sign-in through a real IdP (oidc-provider), driven over HTTP with a cookie jar. Each case
 * names the behaviour of docs/design.md §6.3/§6.4 it protects.
 */

let idp: TestIdp;
let issuer: IssuerUnderTest;
let clocked: IssuerUnderTest;
let twoUpstreams: IssuerUnderTest;
let proxied: IssuerUnderTest;
const clock = new ManualClock(Math.floor(Date.now() / 1000));
const alice = { username: 'alice', password: 'alice-password' };
const bob = { username: 'bob', password: 'bob-password' };

beforeAll(async () => {
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const [main, withClock, withRules, behindProxy] = ports as [number, number, number, number];
  idp = await startIdpFor(ports);
  issuer = await startIssuerUnderTest({ port: main, upstreams: [corpUpstream(idp)], mapping: CORP_MAPPING });
  clocked = await startIssuerUnderTest({
    port: withClock,
    upstreams: [corpUpstream(idp)],
    mapping: CORP_MAPPING,
    clock,
    issuer: { loginStateTTL: '5m' },
  });
  twoUpstreams = await startIssuerUnderTest({
    port: withRules,
    upstreams: [
      corpUpstream(idp, {
        mapping: {
          ...CORP_MAPPING,
          claimValidationRules: [
            { expression: "'platform' in claims.groups", message: 'only platform members may sign in here' },
          ],
        },
      }),
      corpUpstream(idp, {
        name: 'partners',
        displayName: 'Partner portal',
        mapping: {
          claimMappings: {
            username: { claim: 'preferred_username', prefix: 'partner:' },
            groups: { claim: 'groups', prefix: 'partner:' },
          },
        },
      }),
    ],
    mapping: CORP_MAPPING,
  });
  proxied = await startIssuerUnderTest({
    port: behindProxy,
    // Behind a TLS-terminating proxy: the public URL is https, the listener plain http.
    publicURL: 'https://login.example.test',
    upstreams: [corpUpstream(idp)],
    mapping: CORP_MAPPING,
    issuer: { trustProxy: true, rateLimit: { loginPerMinute: 3 } },
  });
});

afterAll(async () => {
  await Promise.all([issuer, clocked, twoUpstreams, proxied].map((i) => i?.close()));
  await idp?.close();
});

/** Runs a login up to the IdP's redirect back to the issuer and returns that callback URL, unvisited. */
async function callbackURLFor(browser: HttpBrowser, start: string, user = alice): Promise<string> {
  const toLogin = await browser.follow(start);
  await toLogin.response.text();
  let response = await browser.request(`${toLogin.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(user).toString(),
  });
  let url = `${toLogin.url}/login`;
  for (let i = 0; i < 10; i++) {
    const next = new URL(response.headers.get('location') ?? '', url).href;
    if (new URL(next).pathname === '/callback') return next;
    url = next;
    response = await browser.request(url);
  }
  throw new Error('the IdP never redirected to /callback');
}

/** The `state` the issuer sent to the IdP, from the /login redirect. */
async function startLogin(browser: HttpBrowser, start: string): Promise<{ state: string; location: string }> {
  const response = await browser.request(start);
  const location = response.headers.get('location') ?? '';
  return { state: new URL(location).searchParams.get('state') ?? '', location };
}

describe('browser login through the upstream IdP', () => {
  it('signs in, shows the mapped user and a token the verifier authenticates', async () => {
    const browser = new HttpBrowser();
    const done = await signInThroughIdp(browser, `${issuer.url}/login/corp`, alice);
    expect(done.response.status).toBe(200);
    expect(new URL(done.url).pathname).toBe('/result');
    expect(done.body).toContain('alice@example.com');
    expect(done.body).toContain('corp:platform');
    expect(done.body).toContain(
      'kube-oidc-bridge setup --issuer http://127.0.0.1:' +
        new URL(issuer.url).port +
        ' --cluster-name test --server https://k8s.test:6443 --audience https://kubernetes.test',
    );
    const token = tokenOnPage(done.body);
    expect(token).toMatch(/^kob_/);
    expect(done.body).toContain(`token: ${token}`);
    const status = await review(issuer.services, token as string);
    expect(status.authenticated).toBe(true);
    expect(status.user?.username).toBe('alice@example.com');
    expect(status.user?.groups).toEqual(['corp:platform', 'corp:developers']);
    const audit = issuer.logs.map((l) => JSON.parse(l)).filter((l) => l.audit);
    expect(audit.map((l) => `${l.event}:${l.result ?? l.source}`)).toEqual(
      expect.arrayContaining(['login:success', 'mint:web']),
    );
  });

  it('sends PKCE S256, state and nonce to the IdP', async () => {
    const { location } = await startLogin(new HttpBrowser(), `${issuer.url}/login/corp`);
    const params = new URL(location).searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toBeTruthy();
    expect(params.get('nonce')).toBeTruthy();
    expect(params.get('redirect_uri')).toBe(`${issuer.url}/callback`);
  });

  it('an unknown sign-in option: the 404 page, no redirect, no login binding', async () => {
    const response = await fetch(`${issuer.url}/login/nope`, { redirect: 'manual' });
    expect(response.status).toBe(404);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('set-cookie') ?? '').not.toContain('kob-login');
    expect(await response.text()).toContain('Unknown sign-in option');
  });

  it('PKCE: the IdP requires it, and a wrong code_verifier fails the code exchange', async () => {
    const withoutPkce = await fetch(
      `${idp.issuer}/auth?client_id=bridge&response_type=code&scope=openid&state=s&redirect_uri=${encodeURIComponent(`${issuer.url}/callback`)}`,
      { redirect: 'manual' },
    );
    const refusal = new URL(withoutPkce.headers.get('location') ?? '').searchParams;
    expect(refusal.get('error')).toBe('invalid_request');
    expect(refusal.get('error_description')).toMatch(/PKCE/);

    const browser = new HttpBrowser();
    const { state, location } = await startLogin(browser, `${issuer.url}/login/corp`);
    const key = hashCredential(state);
    const record = await issuer.services.store.getEphemeral<LoginState>('login', key);
    await issuer.services.store.updateEphemeral('login', key, {
      ...record,
      codeVerifier: randomPKCECodeVerifier(),
    });
    const done = await signInThroughIdp(browser, location, alice);
    expect(done.response.status).toBe(502);
    expect(done.body).toContain('Sign-in did not complete');
    expect(tokenOnPage(done.body)).toBeUndefined();
    expect(issuer.logs.join('\n')).toMatch(/invalid_grant/);
  });

  it('state reuse: a replayed callback is refused', async () => {
    const browser = new HttpBrowser();
    const callback = await callbackURLFor(browser, `${issuer.url}/login/corp`);
    const first = await browser.follow(callback);
    expect(new URL(first.url).pathname).toBe('/result');
    const replay = await browser.follow(callback);
    expect(replay.response.status).toBe(400);
    const body = await replay.response.text();
    expect(body).toContain('This sign-in has expired');
    expect(tokenOnPage(body)).toBeUndefined();
  });

  it('state expiry: a callback after loginStateTTL is refused', async () => {
    const browser = new HttpBrowser();
    const callback = await callbackURLFor(browser, `${clocked.url}/login/corp`);
    clock.advance(5 * 60 + 1);
    const late = await browser.follow(callback);
    expect(late.response.status).toBe(400);
    expect(await late.response.text()).toContain('This sign-in has expired');
  });

  it('login binding: a callback replayed in another browser is refused (login CSRF)', async () => {
    const callback = await callbackURLFor(new HttpBrowser(), `${issuer.url}/login/corp`);
    const elsewhere = await new HttpBrowser().follow(callback);
    expect(elsewhere.response.status).toBe(400);
    expect(await elsewhere.response.text()).toContain('This sign-in has expired');
  });

  it('nonce mismatch: an ID token for another nonce is refused', async () => {
    idp.rewriteNextAuthorization({ nonce: 'a-nonce-the-issuer-never-sent' });
    const done = await signInThroughIdp(new HttpBrowser(), `${issuer.url}/login/corp`, alice);
    expect(done.response.status).toBe(502);
    expect(tokenOnPage(done.body)).toBeUndefined();
    expect(issuer.logs.join('\n')).toMatch(/OAUTH_JWT_CLAIM_COMPARISON_FAILED/);
  });

  it.each([
    ['access_denied', 'authorization', 400, 'Sign-in cancelled'],
    ['server_error', 'authorization', 502, 'Sign-in did not complete'],
    ['invalid_grant', 'token', 502, 'Sign-in did not complete'],
  ] as const)('IdP returns %s at the %s step: %i page, no token', async (error, endpoint, status, title) => {
    idp.failNext(endpoint, error);
    const done = await signInThroughIdp(new HttpBrowser(), `${issuer.url}/login/corp`, alice);
    expect(done.response.status).toBe(status);
    expect(done.body).toContain(title);
    expect(done.body).toContain('href="/"');
    expect(tokenOnPage(done.body)).toBeUndefined();
    expect(done.body).not.toContain(error);
  });

  it('user refused by a claim validation rule: refusal page, audited, no session', async () => {
    const sessionsBefore = (await twoUpstreams.services.store.listSessions()).length;
    const done = await signInThroughIdp(new HttpBrowser(), `${twoUpstreams.url}/login/corp`, bob);
    expect(done.response.status).toBe(403);
    expect(done.body).toContain('Your account has no access here');
    expect(done.body).not.toContain('platform members');
    expect((await twoUpstreams.services.store.listSessions()).length).toBe(sessionsBefore);
    const refusal = twoUpstreams.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.event === 'login' && l.result === 'refused');
    expect(refusal.reason).toContain('only platform members may sign in here');
    expect(done.body).toContain(refusal.reference);
  });

  it('two upstreams with different rules: each login is mapped by its own upstream', async () => {
    const start = await fetch(`${twoUpstreams.url}/`);
    const page = await start.text();
    expect(page).toContain('Sign in with Corp SSO');
    expect(page).toContain('Sign in with Partner portal');

    const viaPartners = await signInThroughIdp(new HttpBrowser(), `${twoUpstreams.url}/login/partners`, bob);
    expect(viaPartners.response.status).toBe(200);
    const partnerToken = tokenOnPage(viaPartners.body) as string;
    expect((await review(twoUpstreams.services, partnerToken)).user).toMatchObject({
      username: 'partner:bob',
      groups: ['partner:contractors'],
    });
    const viaCorp = await signInThroughIdp(new HttpBrowser(), `${twoUpstreams.url}/login/corp`, alice);
    expect((await review(twoUpstreams.services, tokenOnPage(viaCorp.body) as string)).user).toMatchObject({
      username: 'alice@example.com',
      groups: ['corp:platform', 'corp:developers'],
    });
    const sessions = await twoUpstreams.services.store.listSessions({ username: 'partner:bob' });
    expect(sessions[0]?.identity).toMatchObject({ kind: 'claims', upstream: 'partners' });
  });

  it('cookies and security headers: CSP, no framing, nosniff, no referrer, no-store, HttpOnly SameSite cookies', async () => {
    const start = await fetch(`${issuer.url}/`);
    expect(start.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(start.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(start.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(start.headers.get('x-frame-options')).toBe('DENY');
    expect(start.headers.get('x-content-type-options')).toBe('nosniff');
    expect(start.headers.get('referrer-policy')).toBe('no-referrer');
    expect(start.headers.get('cache-control')).toBe('no-store');
    expect(await start.text()).not.toMatch(/<script>|<style>| on[a-z]+="/);

    const loopback = await fetch(`${issuer.url}/login/corp`, { redirect: 'manual' });
    expect(loopback.headers.getSetCookie()[0]).toMatch(
      /^kob-login=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/,
    );
    const secure = await fetch(`${proxied.url}/login/corp`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': '192.0.2.50' },
    });
    expect(secure.headers.getSetCookie()[0]).toMatch(
      /^__Host-kob-login=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure;/,
    );
    expect(new URL(secure.headers.get('location') ?? '').searchParams.get('redirect_uri')).toBe(
      'https://login.example.test/callback',
    );

    const done = await signInThroughIdp(new HttpBrowser(), `${issuer.url}/login/corp`, alice);
    expect(done.response.headers.get('cache-control')).toBe('no-store');
  });

  it('rate limit: login starts and callbacks per client IP, from the last X-Forwarded-For hop', async () => {
    const start = (forwardedFor: string) =>
      fetch(`${proxied.url}/login/corp`, {
        redirect: 'manual',
        headers: { 'x-forwarded-for': forwardedFor },
      });
    for (let i = 0; i < 3; i++) expect((await start('203.0.113.7')).status).toBe(302);
    const limited = await start('198.51.100.1, 203.0.113.7');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.text()).toContain('Too many attempts');
    expect((await start('203.0.113.8')).status).toBe(302);

    const callback = () =>
      fetch(`${proxied.url}/callback?state=made-up&code=x`, {
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
    for (let i = 0; i < 3; i++) expect((await callback()).status).toBe(400);
    expect((await callback()).status).toBe(429);
  });

  it('sign-out revokes the session: the token stops authenticating; a forged sign-out does nothing', async () => {
    const browser = new HttpBrowser();
    const done = await signInThroughIdp(browser, `${issuer.url}/login/corp`, alice);
    const token = tokenOnPage(done.body) as string;
    const csrf = csrfOnPage(done.body) as string;
    expect((await review(issuer.services, token)).authenticated).toBe(true);

    const forged = await browser.submitForm(`${issuer.url}/logout`, { csrf: 'not-the-token' });
    expect(forged.response.status).toBe(400);
    const crossSite = await browser.follow(`${issuer.url}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(crossSite.response.status).toBe(400);
    expect((await review(issuer.services, token)).authenticated).toBe(true);

    const out = await browser.submitForm(`${issuer.url}/logout`, { csrf });
    expect(out.response.status).toBe(200);
    expect(await out.response.text()).toContain('You are signed out');
    expect((await review(issuer.services, token)).authenticated).toBe(false);
    const after = await browser.follow(`${issuer.url}/result`);
    expect(tokenOnPage(await after.response.text())).toBeUndefined();
    expect(issuer.logs.some((l) => /"event":"revoke"/.test(l) && /"revoked":true/.test(l))).toBe(true);
  });
});
