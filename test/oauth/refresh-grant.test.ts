import { createServer, type Server } from 'node:http';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../src/cli/plugin/loopback-server.js';
import { ManualClock } from '../../src/core/clock.js';
import { HttpBrowser, signInThroughIdp } from '../support/oidc-provider.js';
import { DEV_AUDIENCE, type IssuerHarness, PROD_AUDIENCE, startIssuerHarness } from './issuer-harness.js';

/**
 * The refresh grant validates before it consumes: a request that fails for a reason the client can
 * fix (a mistyped audience) or that nobody can help (the upstream IdP is down) does not count as a
 * use of the refresh token, and a grace reuse never skips an upstream re-check that did not happen.
 */
describe('refresh grant: validate before consuming', () => {
  let harness: IssuerHarness;
  let config: oidc.Configuration;
  const clock = new ManualClock(Math.floor(Date.now() / 1000));
  const GRACE = 10;

  beforeAll(async () => {
    harness = await startIssuerHarness({ clock, refreshReuseGrace: GRACE });
    config = await oidc.discovery(new URL(harness.url), 'kube-oidc-bridge', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  const afterClose: Server[] = [];
  afterAll(async () => {
    await harness?.close();
    for (const server of afterClose) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  async function signIn(): Promise<string> {
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
      const tokens = await oidc.authorizationCodeGrant(config, await callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      return tokens.refresh_token as string;
    } finally {
      await receiver.close();
    }
  }

  async function refresh(refreshToken: string, audience?: string) {
    const response = await fetch(`${harness.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'kube-oidc-bridge',
        refresh_token: refreshToken,
        ...(audience !== undefined && { audience }),
      }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as Record<string, string>,
    };
  }

  function upstreamRefreshes(): number {
    return harness.idp.requests.filter((r) => r.startsWith('POST /token')).length;
  }

  it('a wrong audience is refused and leaves the refresh token usable, even after the grace window', async () => {
    const token = await signIn();
    const wrong = await refresh(token, 'https://elsewhere.example');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_target');
    clock.advance(GRACE + 1);
    const right = await refresh(token, PROD_AUDIENCE);
    expect(right.status).toBe(200);
    expect(right.body.access_token).toMatch(/^kob_/);
  });

  it('two concurrent refreshes of one token: both get tokens, the user is re-checked upstream once', async () => {
    const token = await signIn();
    const before = upstreamRefreshes();
    const [a, b] = await Promise.all([refresh(token), refresh(token)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(upstreamRefreshes()).toBe(before + 1);
  });

  it('the upstream IdP down: a retryable error, no use counted, and the refresh after it returns re-checks upstream', async () => {
    const token = await signIn();
    const port = Number(new URL(harness.idp.issuer).port);
    await harness.idp.close();
    let restarted: Server | undefined;
    try {
      const down = await refresh(token);
      expect(down.status).toBe(503);
      expect(down.body.error).toBe('temporarily_unavailable');
      expect(down.retryAfter).toMatch(/^\d+$/);
      // The client retries inside the grace window while the IdP is still down: no tokens without
      // the re-check (a user disabled at the IdP must not get tokens exactly while it is unreachable).
      const retry = await refresh(token);
      expect(retry.status).toBe(503);

      restarted = createServer(harness.idp.provider.callback());
      await new Promise<void>((resolve) => restarted?.listen(port, '127.0.0.1', resolve));
      clock.advance(GRACE + 1);
      const before = upstreamRefreshes();
      const back = await refresh(token);
      expect(back.status).toBe(200);
      expect(upstreamRefreshes()).toBe(before + 1);
    } finally {
      // Runs last: the restarted IdP stays up until the harness closes.
      if (restarted) afterClose.push(restarted);
    }
  });
});
