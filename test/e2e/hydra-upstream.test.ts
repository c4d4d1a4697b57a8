import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../src/cli/plugin/loopback-server.js';
import { createLogger } from '../../src/core/logger.js';
import { DEMO_AUDIENCE } from '../../src/demo/start-demo.js';
import { COMPOSE_DEMO_PASSWORD, readComposeDexConfig } from '../support/compose-dex-config.js';
import type { TestHydra } from '../support/hydra.js';
import { signInThroughHydra } from '../support/hydra-login-consent.js';
import { type LoginWorld, startHydraWorld } from '../support/login-worlds.js';
import { HttpBrowser } from '../support/oidc-provider.js';

/**
 * The issuer in front of ORY Hydra v2 on the paths the browser e2e does not take: a wrong password,
 * a person who denies consent, and the CLI's refresh, which re-checks the person at Hydra with Hydra's
 * refresh token (Hydra rotates it on every use and treats a reused one as a replay).
 */

const [person] = readComposeDexConfig().staticPasswords;
const user = { email: person?.email ?? '', password: COMPOSE_DEMO_PASSWORD };
const logs: string[] = [];
let world: LoginWorld & { hydra: TestHydra };

beforeAll(async () => {
  world = await startHydraWorld({
    logger: createLogger({ level: 'info', destination: { write: (line: string) => logs.push(line) } }),
  });
});
afterAll(async () => {
  await world?.close();
});

function audits(event: string): Record<string, unknown>[] {
  return logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['event'] === event);
}

describe('ORY Hydra v2 as the upstream', () => {
  it('a wrong password stays on the sign-in form (401) and Hydra never sends the person back', async () => {
    const before = audits('login').length;
    const tried = await signInThroughHydra(new HttpBrowser(), `${world.issuerURL}/login/hydra`, {
      ...user,
      password: `${COMPOSE_DEMO_PASSWORD}-wrong`,
    });
    expect(tried.response.status).toBe(401);
    expect(new URL(tried.url).pathname).toBe('/login');
    expect(tried.body).toContain('Wrong email or password.');
    expect(audits('login').length).toBe(before);
  });

  it('Deny at consent: Hydra answers access_denied and the issuer shows its cancelled page (login result "cancelled")', async () => {
    const denied = await signInThroughHydra(
      new HttpBrowser(),
      `${world.issuerURL}/login/hydra`,
      user,
      'deny',
    );
    expect(new URL(denied.url).origin).toBe(world.issuerURL);
    expect(new URL(denied.url).pathname).toBe('/callback');
    expect(new URL(denied.url).searchParams.get('error')).toBe('access_denied');
    expect(denied.response.status).toBe(400);
    expect(denied.body).toContain('Sign-in cancelled');
    expect(audits('login').at(-1)).toMatchObject({ result: 'cancelled', upstream: 'hydra' });
    expect(await world.services.store.listSessions()).toEqual([]);
  });

  it('CLI refresh re-checks the person at Hydra through its rotating refresh token; revoking the consent at Hydra ends the session', async () => {
    const config = await oidc.discovery(
      new URL(world.issuerURL),
      'kube-oidc-bridge',
      undefined,
      oidc.None(),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const receiver = await startLoopbackReceiver();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: receiver.redirectUri,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      audience: DEMO_AUDIENCE,
    });
    const callback = receiver.waitForCallback(state, 20_000);
    try {
      await signInThroughHydra(new HttpBrowser(), url.href, user);
      const tokens = await oidc.authorizationCodeGrant(config, await callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      expect(tokens.refresh_token).toMatch(/^kobrt_/);

      // Two refreshes in a row: the second only works if the first stored Hydra's rotated token.
      const first = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
      const second = await oidc.refreshTokenGrant(config, first.refresh_token as string);
      expect(second.access_token).toMatch(/^kob_/);
      expect(audits('refresh').map((entry) => entry['result'])).toEqual(['success', 'success']);

      const revoked = await fetch(
        `${world.hydra.adminURL}/admin/oauth2/auth/sessions/consent?subject=${encodeURIComponent(person?.userID ?? '')}&all=true`,
        { method: 'DELETE' },
      );
      expect(revoked.status).toBe(204);
      await expect(oidc.refreshTokenGrant(config, second.refresh_token as string)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      expect(audits('refresh').at(-1)).toMatchObject({ result: 'upstream_refused' });
      expect(await world.services.store.listSessions()).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
