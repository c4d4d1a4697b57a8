import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../support/control-plane.js';
import { type KubeWorld, startKubeWorld } from './kube-world.js';
import { measureRevocation } from './webhook-timelines.js';

/**
 * Revocation through the real apiserver's token cache (`--authentication-token-webhook-cache-ttl`): a
 * revoked token keeps working until the apiserver's cached answer expires, then kubectl is refused. With
 * the default 2m TTL the same measurement is `npm run bench:kube` (figures in docs/verifier.md).
 */

const TTL_S = 10;
/** Polling step, a kubectl run and a busy machine's scheduling, on top of the TTL. */
const MARGIN_S = 5;

let world: KubeWorld;
let plane: ControlPlane;

beforeAll(async () => {
  world = await startKubeWorld();
  plane = await world.controlPlane({ webhookVersion: 'v1', webhookCacheTTL: `${TTL_S}s` });
}, 300_000);

afterAll(async () => {
  await world?.close();
});

describe('token revoke against the real token cache', () => {
  it(`with --authentication-token-webhook-cache-ttl=${TTL_S}s a revoked token stops within the TTL plus ${MARGIN_S} s`, async () => {
    const timeline = await measureRevocation(world, plane, { limitMs: (TTL_S + 30) * 1000 });
    // Served from the cache right after the revoke: the cache is real, and this is the delay admins get.
    expect(timeline.statusRightAfterRevoke).toBe(200);
    expect(timeline.refusedAfterCachedS).toBeGreaterThanOrEqual(TTL_S - 1);
    expect(timeline.refusedAfterCachedS).toBeLessThanOrEqual(TTL_S + MARGIN_S);
    expect(timeline.acceptedAfterRevokeS).toBeLessThanOrEqual(TTL_S + MARGIN_S);
  }, 120_000);

  it('once refused, kubectl says Unauthorized, and a token revoked before first use is never accepted', async () => {
    const token = await world.mint({ email: 'carol@example.com', email_verified: true });
    expect((await world.revoke(token)).code).toBe(0);
    const got = await plane.kubectl(['auth', 'whoami'], { token });
    expect(got.code).not.toBe(0);
    expect(got.stderr).toMatch(/Unauthorized/);
  });
});
