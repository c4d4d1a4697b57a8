import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CORP_MAPPING,
  freePort,
  type IssuerUnderTest,
  startIssuerUnderTest,
} from '../issuer/issuer-fixture.js';

/**
 * The CLI's endpoints that a browser visits (the authorization endpoint, the /device pages) answer
 * failures with the issuer's HTML problem pages, like the sign-in pages: never a JSON error body in a
 * browser tab, never an internal detail such as the upstream's address.
 */
let issuer: IssuerUnderTest;
let unreachableIdp: string;

beforeAll(async () => {
  // A port nothing listens on: discovery of this upstream fails.
  unreachableIdp = `http://127.0.0.1:${await freePort()}`;
  issuer = await startIssuerUnderTest({
    port: await freePort(),
    mapping: CORP_MAPPING,
    upstreams: [
      {
        name: 'corp',
        issuer: unreachableIdp,
        clientID: 'bridge',
        clientSecret: 'bridge-secret-for-tests',
        allowInsecureRequests: true,
      },
    ],
  });
});
afterAll(() => issuer.close());

describe('browser-facing OAuth endpoints', () => {
  // Regression: an unreachable IdP during /oauth2/authorize fell through to the JSON error middleware.
  it('show the "sign-in did not complete" page when the upstream cannot be reached', async () => {
    const query = new URLSearchParams({
      client_id: 'kube-oidc-bridge',
      redirect_uri: 'http://127.0.0.1:9/callback',
      response_type: 'code',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'abc',
    });
    const res = await fetch(`${issuer.url}/oauth2/authorize?${query}`, { redirect: 'manual' });
    const body = await res.text();
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(body).toContain('Sign-in did not complete');
    expect(body).not.toContain(unreachableIdp);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});
