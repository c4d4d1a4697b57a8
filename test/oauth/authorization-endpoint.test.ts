import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLoopbackRedirectUri } from '../../src/issuer/oauth/redirect-uri.js';
import { HttpBrowser } from '../support/oidc-provider.js';
import { DEV_AUDIENCE, type IssuerHarness, startIssuerHarness } from './issuer-harness.js';
import { approveDeviceCode, csrfFrom } from './login-driver.js';

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('redirect URI validation (RFC 8252 §7.3, no open redirects)', () => {
  const cases: [string, string | undefined, boolean][] = [
    ['IPv4 loopback, any port', 'http://127.0.0.1:49152/callback', true],
    ['IPv6 loopback, any port', 'http://[::1]:8000/callback', true],
    ['IPv4 loopback with a query', 'http://127.0.0.1:8000/cb?x=1', true],
    ['localhost is not accepted (RFC 8252 §8.3)', 'http://localhost:8000/callback', false],
    ['another host', 'http://evil.example:8000/callback', false],
    ['https to another host', 'https://evil.example/callback', false],
    ['a host that starts like loopback', 'http://127.0.0.1.evil.example/callback', false],
    ['credentials smuggling another host', 'http://127.0.0.1@evil.example/callback', false],
    ['userinfo before the loopback host', 'http://evil.example@127.0.0.1:8000/callback', false],
    ['a fragment', 'http://127.0.0.1:8000/callback#x', false],
    ['a custom scheme', 'com.example.app:/callback', false],
    ['javascript:', 'javascript:alert(1)//127.0.0.1', false],
    ['protocol-relative', '//evil.example/callback', false],
    ['missing', undefined, false],
  ];
  for (const [name, uri, ok] of cases) {
    it(`${ok ? 'accepts' : 'refuses'} ${name}`, () => {
      expect(checkLoopbackRedirectUri(uri).ok).toBe(ok);
    });
  }
});

describe('authorization and device endpoints over HTTP', () => {
  let harness: IssuerHarness;
  beforeAll(async () => {
    harness = await startIssuerHarness({ userCodeAttemptsPerMinute: 5 });
  });
  afterAll(async () => {
    await harness?.close();
  });

  function authorize(params: Record<string, string>): Promise<Response> {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'kube-oidc-bridge',
      redirect_uri: 'http://127.0.0.1:40000/callback',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      state: 's1',
      audience: DEV_AUDIENCE,
      ...params,
    });
    return fetch(`${harness.url}/oauth2/authorize?${query}`, { redirect: 'manual' });
  }

  const refusedWithoutRedirect: [string, Record<string, string>][] = [
    ['an unknown client', { client_id: 'someone-else' }],
    ['a redirect to another host', { redirect_uri: 'https://evil.example/callback' }],
    ['a redirect to localhost', { redirect_uri: 'http://localhost:40000/callback' }],
  ];
  for (const [name, params] of refusedWithoutRedirect) {
    it(`refuses ${name} with a page, never a redirect`, async () => {
      const response = await authorize(params);
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('Login request not accepted');
    });
  }

  const refusedToClient: [string, Record<string, string>, string][] = [
    ['PKCE plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no PKCE', { code_challenge_method: '', code_challenge: '' }, 'invalid_request'],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
    ['an audience no cluster has', { audience: 'https://elsewhere.example' }, 'invalid_target'],
  ];
  for (const [name, params, error] of refusedToClient) {
    it(`reports ${name} to the loopback client as ${error}`, async () => {
      const response = await authorize(params);
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location') ?? '');
      expect(location.origin).toBe('http://127.0.0.1:40000');
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('state')).toBe('s1');
      expect(location.searchParams.get('iss')).toBe(harness.url);
    });
  }

  it('a valid request goes to the upstream IdP', async () => {
    const response = await authorize({});
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(new RegExp(`^${harness.idp.issuer}/auth\\?`));
  });

  it('a code is redeemed once, and only with the right PKCE verifier', async () => {
    const body = (verifier: string, code: string) =>
      new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'kube-oidc-bridge',
        code,
        code_verifier: verifier,
        redirect_uri: 'http://127.0.0.1:40000/callback',
      });
    const response = await fetch(`${harness.url}/oauth2/token`, {
      method: 'POST',
      body: body('x'.repeat(43), 'nope'),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('the device page refuses a form without the CSRF token of this browser', async () => {
    const start = await fetch(`${harness.url}/oauth2/device_authorization`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'kube-oidc-bridge', audience: DEV_AUDIENCE }),
    });
    const { user_code: userCode } = (await start.json()) as { user_code: string };
    const victim = new HttpBrowser();
    const page = await victim.follow(`${harness.url}/device`);
    const victimToken = csrfFrom(await page.response.text());
    const attacker = new HttpBrowser();
    await attacker.follow(`${harness.url}/device`);
    // The attacker's page posts with its own token into the victim's browser: cookie and token disagree.
    const forged = await victim.submitForm(`${harness.url}/device/confirm`, {
      csrf: `${victimToken.slice(0, -2)}xx`,
      user_code: userCode,
      decision: 'approve',
      upstream: 'corp',
    });
    expect(forged.response.status).toBe(403);
    const noToken = await victim.submitForm(`${harness.url}/device`, { user_code: userCode });
    expect(noToken.response.status).toBe(403);
    const crossOrigin = await victim.request(`${harness.url}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ csrf: victimToken, user_code: userCode }).toString(),
    });
    expect(crossOrigin.status).toBe(403);
  });

  it('user-code guessing is rate-limited per address', async () => {
    const browser = new HttpBrowser();
    const page = await browser.follow(`${harness.url}/device`);
    const csrf = csrfFrom(await page.response.text());
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const guess = await browser.submitForm(`${harness.url}/device`, { csrf, user_code: 'BCDF-GHJK' });
      statuses.push(guess.response.status);
    }
    expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // Even the right code is refused while the limit holds.
    const start = await fetch(`${harness.url}/oauth2/device_authorization`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'kube-oidc-bridge', audience: DEV_AUDIENCE }),
    });
    const { user_code: userCode } = (await start.json()) as { user_code: string };
    const approval = await approveDeviceCode(harness.url, userCode, undefined, browser);
    expect(approval.status).toBe(429);
  });
});
