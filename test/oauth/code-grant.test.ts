import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../src/cli/plugin/loopback-server.js';
import { HttpBrowser, signInThroughIdp } from '../support/oidc-provider.js';
import { DEV_AUDIENCE, type IssuerHarness, PROD_AUDIENCE, startIssuerHarness } from './issuer-harness.js';

/**
 * The code grant validates before it consumes (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 8707 §2.2): a failed
 * PKCE check does not burn the code, and a `resource`/`audience` other than the authorized one is
 * `invalid_target`, never silently answered with a token for the authorized audience.
 */
describe('authorization code grant', () => {
  let harness: IssuerHarness;
  let config: oidc.Configuration;

  beforeAll(async () => {
    harness = await startIssuerHarness();
    config = await oidc.discovery(new URL(harness.url), 'kube-oidc-bridge', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  afterAll(async () => {
    await harness?.close();
  });

  /** The browser part of a code flow for DEV_AUDIENCE: the code, its verifier and redirect URI. */
  async function authorize() {
    const receiver = await startLoopbackReceiver();
    try {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: receiver.redirectUri,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        audience: DEV_AUDIENCE,
      });
      const callback = receiver.waitForCallback(state, 20_000);
      await signInThroughIdp(new HttpBrowser(), url.href, { username: 'alice', password: 'alice-password' });
      return {
        code: (await callback).searchParams.get('code') as string,
        verifier,
        redirectUri: receiver.redirectUri,
      };
    } finally {
      await receiver.close();
    }
  }

  async function redeem(form: Record<string, string>, extra: [string, string][] = []) {
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: 'kube-oidc-bridge',
      ...form,
    });
    for (const [k, v] of extra) body.append(k, v);
    const response = await fetch(`${harness.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  async function audiencesOf(token: string) {
    const found = await harness.tokens.lookupAccessToken(token);
    return found.status === 'valid' ? found.record.audiences : found.status;
  }

  it('a wrong PKCE verifier is refused and does not burn the code', async () => {
    const { code, verifier, redirectUri } = await authorize();
    const wrong = await redeem({
      code,
      code_verifier: oidc.randomPKCECodeVerifier(),
      redirect_uri: redirectUri,
    });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const right = await redeem({ code, code_verifier: verifier, redirect_uri: redirectUri });
    expect(right.status).toBe(200);
    expect(await audiencesOf(right.body.access_token as string)).toEqual([DEV_AUDIENCE]);
  });

  const mismatches: [string, [string, string][]][] = [
    ['resource names another cluster', [['resource', PROD_AUDIENCE]]],
    ['audience names another cluster', [['audience', PROD_AUDIENCE]]],
    [
      'two resources',
      [
        ['resource', DEV_AUDIENCE],
        ['resource', PROD_AUDIENCE],
      ],
    ],
  ];
  for (const [name, extra] of mismatches) {
    it(`${name}: invalid_target, and the code still works for the authorized audience`, async () => {
      const { code, verifier, redirectUri } = await authorize();
      const refused = await redeem({ code, code_verifier: verifier, redirect_uri: redirectUri }, extra);
      expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
      const ok = await redeem({ code, code_verifier: verifier, redirect_uri: redirectUri }, [
        ['resource', DEV_AUDIENCE],
      ]);
      expect(ok.status).toBe(200);
      expect(await audiencesOf(ok.body.access_token as string)).toEqual([DEV_AUDIENCE]);
    });
  }
});
