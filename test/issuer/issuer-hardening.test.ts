import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress, trustedProxies } from '../../src/issuer/web/client-address.js';
import { csrfFrom } from '../oauth/login-driver.js';
import { HttpBrowser, signInThroughIdp, type TestIdp } from '../support/oidc-provider.js';
import {
  CORP_MAPPING,
  corpUpstream,
  freePort,
  type IssuerUnderTest,
  startIdpFor,
  startIssuerUnderTest,
} from './issuer-fixture.js';

/** Login-binding fixation, forwarded-address trust, HSTS and asset lookups. */

let idp: TestIdp;
/** Plain-http loopback issuer; trusts X-Forwarded-For only from 10.0.0.0/8 (so not from this test). */
let issuer: IssuerUnderTest;
/** Behind a TLS-terminating proxy: https public URL. */
let https: IssuerUnderTest;
/** Serves two clusters. */
let twoClusters: IssuerUnderTest;

beforeAll(async () => {
  const [a, b, c] = [await freePort(), await freePort(), await freePort()];
  idp = await startIdpFor([a, b, c]);
  twoClusters = await startIssuerUnderTest({
    port: c,
    upstreams: [corpUpstream(idp)],
    mapping: CORP_MAPPING,
    issuer: {
      clusters: [
        { name: 'dev', audience: 'https://dev.k8s.test' },
        { name: 'prod', audience: 'https://prod.k8s.test' },
      ],
    },
  });
  issuer = await startIssuerUnderTest({
    port: a,
    upstreams: [corpUpstream(idp)],
    mapping: CORP_MAPPING,
    issuer: { trustProxy: ['10.0.0.0/8'], rateLimit: { userCodeAttemptsPerMinute: 5 } },
  });
  https = await startIssuerUnderTest({
    port: b,
    publicURL: 'https://login.example.test',
    upstreams: [corpUpstream(idp)],
    mapping: CORP_MAPPING,
  });
});

afterAll(async () => {
  await Promise.all([issuer?.close(), https?.close(), twoClusters?.close()]);
  await idp?.close();
});

describe('login binding', () => {
  it('a planted kob-login value is never reused: every login start mints a fresh binding', async () => {
    const browser = new HttpBrowser();
    const host = new URL(issuer.url).host;
    const planted = 'planted-by-an-attacker-0123456789abcdefghijkl';
    browser.cookies.set(host, new Map([['kob-login', planted]]));
    const first = await browser.request(`${issuer.url}/login/corp`);
    expect(first.status).toBe(302);
    const minted = browser.cookies.get(host)?.get('kob-login');
    expect(minted).toBeDefined();
    expect(decodeURIComponent(minted as string)).not.toBe(planted);
    await browser.request(`${issuer.url}/login/corp`);
    expect(browser.cookies.get(host)?.get('kob-login')).not.toBe(minted);
  });
});

describe('web sign-in with several clusters', () => {
  it('the result page shows one token per cluster, each valid for that cluster only', async () => {
    const done = await signInThroughIdp(new HttpBrowser(), `${twoClusters.url}/login/corp`, {
      username: 'alice',
      password: 'alice-password',
    });
    expect(done.response.status).toBe(200);
    const tokenFor = (name: string) =>
      new RegExp(`<pre id="token-${name}"[^>]*>(kob_[A-Za-z0-9_-]+)</pre>`).exec(done.body)?.[1];
    const audiencesOf = async (token: string | undefined) => {
      const found = await twoClusters.services.tokens.lookupAccessToken(token ?? '');
      return found.status === 'valid' ? found.record.audiences : found.status;
    };
    const [dev, prod] = [tokenFor('dev'), tokenFor('prod')];
    expect(dev).not.toBe(prod);
    expect(await audiencesOf(dev)).toEqual(['https://dev.k8s.test']);
    expect(await audiencesOf(prod)).toEqual(['https://prod.k8s.test']);
    // Each cluster's kubeconfig carries that cluster's token.
    expect(done.body).toMatch(new RegExp(`id="kubeconfig-dev"[^>]*>[^<]*token: ${dev}`));
    expect(done.body).toMatch(new RegExp(`id="kubeconfig-prod"[^>]*>[^<]*token: ${prod}`));
  });
});

describe('forwarded client addresses', () => {
  const cases: [string, boolean | string[], string, string | undefined, string][] = [
    ['no trust: the socket peer, whatever the header says', false, '10.1.2.3', '198.51.100.1', '10.1.2.3'],
    ['an untrusted peer: header ignored', ['10.0.0.0/8'], '203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['a trusted proxy: the hop it saw', ['10.0.0.0/8'], '10.1.2.3', '198.51.100.1', '198.51.100.1'],
    [
      'a trusted proxy: client-written entries left of the first untrusted hop are ignored',
      ['10.0.0.0/8'],
      '10.1.2.3',
      '1.2.3.4, 198.51.100.1',
      '198.51.100.1',
    ],
    [
      'two trusted proxies in a row',
      ['10.0.0.0/8', '192.0.2.7'],
      '10.1.2.3',
      '198.51.100.1, 192.0.2.7',
      '198.51.100.1',
    ],
    ['true: loopback is trusted', true, '127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['true: private networks are trusted', true, '::ffff:172.20.0.4', '198.51.100.1', '198.51.100.1'],
    ['true: a public peer is not', true, '203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['garbage in the header: the last trusted hop', ['10.0.0.0/8'], '10.1.2.3', 'not-an-ip', '10.1.2.3'],
    ['IPv6 range', ['fd00::/8'], 'fd00::1', '2001:db8::1', '2001:db8::1'],
  ];
  for (const [name, trust, peer, header, expected] of cases) {
    it(name, () => {
      expect(clientAddress(peer, header, trustedProxies(trust))).toBe(expected);
    });
  }

  it('the device confirmation page shows the real peer, not a forged X-Forwarded-For', async () => {
    const started = await fetch(`${issuer.url}/oauth2/device_authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.99' },
      body: new URLSearchParams({ client_id: 'kube-oidc-bridge' }).toString(),
    });
    const { user_code } = (await started.json()) as { user_code: string };
    const browser = new HttpBrowser();
    const csrf = csrfFrom(await (await browser.request(`${issuer.url}/device`)).text());
    const confirm = await browser.submitForm(`${issuer.url}/device`, { csrf, user_code });
    const page = await confirm.response.text();
    expect(page).toContain('<dt>Requested from</dt><dd>127.0.0.1</dd>');
    expect(page).not.toContain('198.51.100.99');
  });
  it('rotating X-Forwarded-For from an untrusted peer does not defeat the user-code guessing limit', async () => {
    const browser = new HttpBrowser();
    const csrf = csrfFrom(await (await browser.request(`${issuer.url}/device`)).text());
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await browser.request(`${issuer.url}/device`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': `198.51.100.${i}`,
        },
        body: new URLSearchParams({ csrf, user_code: 'BCDF-GHJK' }).toString(),
      });
      statuses.push(response.status);
      await response.text();
    }
    // 5 per minute per address (one was spent on the confirmation page above): rotation buys nothing.
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(5);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const limited = issuer.services.metrics.registry.getSingleMetric('kob_rate_limited_total');
    expect(JSON.stringify(await limited?.get())).toContain('"endpoint":"user_code"');
  });
});

describe('transport and assets', () => {
  it('an https issuer sends HSTS; a plain-http development issuer does not', async () => {
    expect((await fetch(`${https.url}/`)).headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect((await fetch(`${issuer.url}/`)).headers.get('strict-transport-security')).toBeNull();
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    '/assets/%s is not found (no Object.prototype lookups)',
    async (name) => {
      expect((await fetch(`${issuer.url}/assets/${name}`)).status).toBe(404);
    },
  );
});
