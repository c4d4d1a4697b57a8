import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../src/cli/plugin/loopback-server.js';
import { ManualClock } from '../../src/core/clock.js';
import { HttpBrowser, signInThroughIdp } from '../support/oidc-provider.js';
import { DEV_AUDIENCE, type IssuerHarness, PROD_AUDIENCE, startIssuerHarness } from './issuer-harness.js';
import { approveDeviceCode } from './login-driver.js';

/**
 * openid-client, used as an ordinary OAuth client, against the issuer's CLI endpoints: proof that
 * they are the standard flows (RFC 6749 + 7636 + 8252, 8628, 7009, 8414).
 */
describe('openid-client against the issuer', () => {
  let harness: IssuerHarness;
  let config: oidc.Configuration;
  const clock = new ManualClock(Math.floor(Date.now() / 1000));

  beforeAll(async () => {
    harness = await startIssuerHarness({ clock, refreshReuseGrace: 10 });
    config = await oidc.discovery(new URL(harness.url), 'kube-oidc-bridge', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  afterAll(async () => {
    await harness?.close();
  });

  /** Runs the browser part of the code flow; returns what the CLI's loopback receiver got. */
  async function authorize(audience: string, user = { username: 'alice', password: 'alice-password' }) {
    const receiver = await startLoopbackReceiver();
    try {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: receiver.redirectUri,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        audience,
      });
      const callback = receiver.waitForCallback(state, 20_000);
      await signInThroughIdp(new HttpBrowser(), url.href, user);
      return { callback: await callback, verifier, state, redirectUri: receiver.redirectUri };
    } finally {
      await receiver.close();
    }
  }

  async function codeFlow(audience: string, user = { username: 'alice', password: 'alice-password' }) {
    const { callback, verifier, state } = await authorize(audience, user);
    return oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
  }

  async function audiencesOf(token: string): Promise<string[] | string> {
    const found = await harness.tokens.lookupAccessToken(token);
    return found.status === 'valid' ? found.record.audiences : found.status;
  }

  it('serves RFC 8414 metadata at both well-known paths with the same issuer', async () => {
    const oauth = await (await fetch(`${harness.url}/.well-known/oauth-authorization-server`)).json();
    const openid = await (await fetch(`${harness.url}/.well-known/openid-configuration`)).json();
    expect(oauth).toEqual(openid);
    expect(oauth).toMatchObject({
      issuer: harness.url,
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    });
    expect(config.serverMetadata().device_authorization_endpoint).toBe(
      `${harness.url}/oauth2/device_authorization`,
    );
  });

  it('code flow with PKCE S256: an access token for the asked audience only, and a refresh token', async () => {
    const tokens = await codeFlow(DEV_AUDIENCE);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.access_token).toMatch(/^kob_/);
    expect(tokens.refresh_token).toMatch(/^kobrt_/);
    expect(tokens.expires_in).toBeGreaterThan(800);
    expect(await audiencesOf(tokens.access_token)).toEqual([DEV_AUDIENCE]);
  });

  it('authorization code reuse: refused, and the tokens issued from its first use are revoked', async () => {
    const { callback, verifier, state, redirectUri } = await authorize(DEV_AUDIENCE);
    const first = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(await audiencesOf(first.access_token)).toEqual([DEV_AUDIENCE]);
    const replay = await fetch(`${harness.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'kube-oidc-bridge',
        code: callback.searchParams.get('code') as string,
        code_verifier: verifier,
        redirect_uri: redirectUri,
      }),
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await audiencesOf(first.access_token)).toBe('unknown');
    await expect(
      oidc.refreshTokenGrant(config, first.refresh_token as string, { audience: DEV_AUDIENCE }),
    ).rejects.toThrow();
  });

  it('one login serves several clusters: refresh with another audience returns a token for it', async () => {
    const first = await codeFlow(DEV_AUDIENCE);
    const prod = await oidc.refreshTokenGrant(config, first.refresh_token!, { audience: PROD_AUDIENCE });
    expect(await audiencesOf(prod.access_token)).toEqual([PROD_AUDIENCE]);
    const unknown = oidc.refreshTokenGrant(config, prod.refresh_token!, { audience: 'https://elsewhere' });
    await expect(unknown).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('userinfo answers with the identity the verifier maps', async () => {
    const tokens = await codeFlow(DEV_AUDIENCE);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
    expect(info).toMatchObject({
      username: 'alice@example.com',
      groups: ['oidc:platform', 'oidc:developers'],
      audiences: [DEV_AUDIENCE],
    });
  });

  it('two refreshes with the same token inside the grace window both succeed', async () => {
    const first = await codeFlow(DEV_AUDIENCE);
    const [a, b] = await Promise.all([
      oidc.refreshTokenGrant(config, first.refresh_token!),
      oidc.refreshTokenGrant(config, first.refresh_token!),
    ]);
    expect(await audiencesOf(a.access_token)).toEqual([DEV_AUDIENCE]);
    expect(await audiencesOf(b.access_token)).toEqual([DEV_AUDIENCE]);
  });

  it('refresh token reuse after the grace window revokes the whole family', async () => {
    const first = await codeFlow(DEV_AUDIENCE);
    const second = await oidc.refreshTokenGrant(config, first.refresh_token!);
    clock.advance(11);
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await audiencesOf(second.access_token)).toBe('unknown');
    await expect(oidc.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('refresh re-checks the user upstream: a refusal there ends the session', async () => {
    const first = await codeFlow(DEV_AUDIENCE);
    harness.idp.failNext('token', 'invalid_grant');
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await audiencesOf(first.access_token)).toBe('unknown');
  });

  it('revocation (RFC 7009) of the refresh token ends the session', async () => {
    const tokens = await codeFlow(DEV_AUDIENCE);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    expect(await audiencesOf(tokens.access_token)).toBe('unknown');
    // Unknown tokens are answered 200 too (RFC 7009 §2.2).
    await oidc.tokenRevocation(config, 'kob_not-a-real-token');
  });

  it('device flow: pending until approved on /device, then tokens for the asked audience', async () => {
    const authorization = await oidc.initiateDeviceAuthorization(config, { audience: PROD_AUDIENCE });
    expect(authorization.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(authorization.verification_uri).toBe(`${harness.url}/device`);
    const polled = oidc.pollDeviceAuthorizationGrant(config, authorization);
    const approved = await approveDeviceCode(harness.url, authorization.user_code);
    expect(approved.body).toContain('Device signed in');
    const tokens = await polled;
    expect(await audiencesOf(tokens.access_token)).toEqual([PROD_AUDIENCE]);
  });

  it('no log line carries an access token, refresh token, code or device code', () => {
    expect(harness.logs.length).toBeGreaterThan(0);
    const leaked = harness.logs.filter((line) =>
      /kob(rt)?_[A-Za-z0-9_-]{20,}|[?&]code=|device_code"\s*:\s*"[^[]/.test(line),
    );
    expect(leaked).toEqual([]);
  });
});
