import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBrowser, signInThroughIdp, type TestIdp } from '../support/oidc-provider.js';
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

let idp: TestIdp;
let issuer: IssuerUnderTest;
const alice = { username: 'alice', password: 'alice-password' };

beforeAll(async () => {
  const port = await freePort();
  idp = await startIdpFor([port]);
  issuer = await startIssuerUnderTest({ port, upstreams: [corpUpstream(idp)], mapping: CORP_MAPPING });
});

afterAll(async () => {
  await issuer?.close();
  await idp?.close();
});

describe('browser login through the upstream IdP', () => {
  it('signs in, shows the mapped user and a token the verifier authenticates', async () => {
    const browser = new HttpBrowser();
    const done = await signInThroughIdp(browser, `${issuer.url}/login/corp`, alice);
    expect(done.response.status).toBe(200);
    expect(new URL(done.url).pathname).toBe('/result');
    expect(done.body).toContain('alice@example.com');
    expect(done.body).toContain('corp:platform');
    const token = tokenOnPage(done.body);
    expect(token).toMatch(/^kob_/);
    const status = await review(issuer.services, token as string);
    expect(status.authenticated).toBe(true);
    expect(status.user?.username).toBe('alice@example.com');
    expect(status.user?.groups).toEqual(['corp:platform', 'corp:developers']);
  });
});
