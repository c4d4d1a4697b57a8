import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBrowser, type TestIdp } from '../support/oidc-provider.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import {
  CORP_MAPPING,
  corpUpstream,
  freePort,
  type IssuerUnderTest,
  review,
  startIdpFor,
  startIssuerUnderTest,
  tokenOnPage,
} from './issuer-fixture.js';

/**
 * Two issuer replicas behind one public URL, sharing one real Redis: the login starts on one and the
 * IdP's callback lands on the other (what a load balancer without sticky sessions does).
 */

let redis: TestRedis;
let idp: TestIdp;
let first: IssuerUnderTest;
let second: IssuerUnderTest;

beforeAll(async () => {
  redis = await startTestRedis();
  const [portA, portB] = [await freePort(), await freePort()];
  idp = await startIdpFor([portA]);
  const common = {
    publicURL: `http://127.0.0.1:${portA}`,
    upstreams: [corpUpstream(idp)],
    mapping: CORP_MAPPING,
    redisURL: redis.url,
  };
  first = await startIssuerUnderTest({ ...common, port: portA });
  second = await startIssuerUnderTest({ ...common, port: portB });
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await idp?.close();
  await redis?.close();
});

/** Moves the browser's cookies for `from` to `to`, as if both were the one public host. */
function shareCookies(browser: HttpBrowser, from: string, to: string): void {
  const jar = browser.cookies.get(new URL(from).host);
  if (jar) browser.cookies.set(new URL(to).host, new Map(jar));
}

describe('two issuer instances sharing one Redis', () => {
  it('login starts on one instance, the callback lands on the other, the token works on both', async () => {
    const browser = new HttpBrowser();
    const toLogin = await browser.follow(`${first.url}/login/corp`);
    await toLogin.response.text();
    let response = await browser.request(`${toLogin.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'alice-password' }).toString(),
    });
    let url = `${toLogin.url}/login`;
    while (!new URL(url).pathname.startsWith('/callback')) {
      url = new URL(response.headers.get('location') ?? '', url).href;
      if (new URL(url).pathname === '/callback') break;
      response = await browser.request(url);
    }
    expect(url.startsWith(`${first.url}/callback?`)).toBe(true);

    const onSecond = url.replace(first.url, second.url);
    shareCookies(browser, first.url, second.url);
    const done = await browser.follow(onSecond);
    expect(new URL(done.url).host).toBe(new URL(second.url).host);
    expect(new URL(done.url).pathname).toBe('/result');
    const token = tokenOnPage(await done.response.text()) as string;
    expect((await review(second.services, token)).authenticated).toBe(true);
    expect((await review(first.services, token)).authenticated).toBe(true);
    expect(second.logs.some((l) => /"event":"login"/.test(l) && /"result":"success"/.test(l))).toBe(true);
    expect(first.logs.some((l) => /"event":"login"/.test(l))).toBe(false);

    // The state was taken by the second instance: replaying the callback on the first one fails.
    shareCookies(browser, second.url, first.url);
    const replay = await browser.follow(url);
    expect(replay.response.status).toBe(400);
  });
});
