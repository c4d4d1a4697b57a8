import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../support/control-plane.js';
import { type KubeWorld, startKubeWorld } from './kube-world.js';
import { measureOutage } from './webhook-timelines.js';

/**
 * "What happens to my cluster when the webhook is down": the verifier, then its Redis, stopped under a
 * real kube-apiserver. New tokens are refused (never let in), tokens the apiserver cached keep working for
 * the TTL, and the cluster recovers by itself once the piece is back. `npm run bench:kube` prints the
 * same timelines with the defaults (figures in docs/verifier.md).
 */

let world: KubeWorld;
let plane: ControlPlane;

beforeAll(async () => {
  world = await startKubeWorld();
  plane = await world.controlPlane({ webhookVersion: 'v1' });
}, 300_000);

afterAll(async () => {
  await world?.close();
});

describe('verifier and Redis outages under the real apiserver', () => {
  it('verifier down: kubectl gets Unauthorized at once, cached tokens still work, recovery without an apiserver restart', async () => {
    const t = await measureOutage(world, plane, 'verifier');
    expect(t.statusDuringOutage).toBe(401);
    expect(t.kubectlDuringOutage.code).not.toBe(0);
    expect(t.kubectlDuringOutage.stderr).toMatch(/Unauthorized/);
    // Connection refused is not one of the webhook client's retried errors: the answer is immediate.
    expect(t.answeredAfterS).toBeLessThan(3);
    expect(t.cachedTokenStatus).toBe(200);
    expect(t.recoveredAfterS).toBeLessThan(10);
  }, 120_000);

  it("Redis down: the verifier's 503 makes the apiserver retry for 30 s, then kubectl gets Unauthorized; recovery follows Redis", async () => {
    const t = await measureOutage(world, plane, 'redis');
    expect(t.statusDuringOutage).toBe(401);
    expect(t.kubectlDuringOutage.code).not.toBe(0);
    expect(t.kubectlDuringOutage.stderr).toMatch(/Unauthorized/);
    // The verifier's 503 carries Retry-After: client-go's REST client waits and resends (up to 10 times per
    // call) and the webhook backoff calls again, until the token cache's 30 s shared lookup timeout.
    expect(t.answeredAfterS).toBeGreaterThanOrEqual(29);
    expect(t.answeredAfterS).toBeLessThan(40);
    expect(t.cachedTokenStatus).toBe(200);
    expect(t.recoveredAfterS).toBeLessThan(15);
  }, 180_000);
});
