import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { createMemoryStore, type EphemeralNamespace, type TokenStore } from '../../src/store/index.js';
import {
  CORP_MAPPING,
  corpUpstream,
  freePort,
  type IssuerUnderTest,
  startIdpFor,
  startIssuerUnderTest,
} from '../issuer/issuer-fixture.js';
import type { TestIdp } from '../support/oidc-provider.js';

/**
 * The device grant's record changes state atomically: a poll that read `pending` must not write its
 * `lastPollAt` over an approval that landed in between (a blind SET lost the approval).
 */

/** A memory store that runs `between` once, right after the next read of a device record. */
function storeWithHook(): TokenStore & { armAfterDeviceRead(between: () => Promise<void>): void } {
  const inner = createMemoryStore({ clock: systemClock });
  let hook: (() => Promise<void>) | undefined;
  return {
    ...inner,
    async getEphemeral<T>(ns: EphemeralNamespace, id: string) {
      const value = await inner.getEphemeral<T>(ns, id);
      const run = ns === 'device' ? hook : undefined;
      if (run) {
        hook = undefined;
        await run();
      }
      return value;
    },
    armAfterDeviceRead(between) {
      hook = between;
    },
  };
}

describe('device grant: no lost update', () => {
  let idp: TestIdp;
  let issuer: IssuerUnderTest;
  const store = storeWithHook();

  beforeAll(async () => {
    const port = await freePort();
    idp = await startIdpFor([port]);
    issuer = await startIssuerUnderTest({
      port,
      upstreams: [corpUpstream(idp)],
      mapping: CORP_MAPPING,
      store,
      issuer: { cli: { devicePollInterval: 1 } },
    });
  });
  afterAll(async () => {
    await issuer?.close();
    await idp?.close();
  });

  async function post(path: string, form: Record<string, string>) {
    const response = await fetch(`${issuer.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'kube-oidc-bridge', ...form }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  it('an approval landing while a poll is in flight survives the poll', async () => {
    const started = await post('/oauth2/device_authorization', {});
    expect(started.status).toBe(200);
    const deviceCode = started.body.device_code as string;
    const deviceId = await store.getEphemeral<string>('user-code', started.body.user_code as string);
    expect(deviceId).toBeDefined();

    // The person approves (and signs in) exactly between the poll's read and its write.
    store.armAfterDeviceRead(async () => {
      const record = await store.getEphemeral<Record<string, unknown>>('device', deviceId as string);
      await store.updateEphemeral('device', deviceId as string, {
        ...record,
        status: 'approved',
        login: {
          upstream: 'corp',
          upstreamIssuer: idp.issuer,
          subject: 'alice',
          claims: { sub: 'alice', email: 'alice@example.com', groups: ['platform'] },
          username: 'alice@example.com',
        },
      });
    });
    const grant = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode };
    // The poll that raced the approval sees it (or the next poll does): the approval is not undone.
    const first = await post('/oauth2/token', grant);
    const redeemed = first.status === 200 ? first : await post('/oauth2/token', grant);
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.access_token).toMatch(/^kob_/);
    // Exactly one poll gets the tokens.
    expect((await post('/oauth2/token', grant)).body.error).toBe('expired_token');
  });
});
