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
    expect(t.later.status).toBe(401);
    expect(t.later.answeredAfterS).toBeLessThan(3);
    expect(t.cachedTokenStatus).toBe(200);
    expect(t.recoveredAfterS).toBeLessThan(10);
  }, 120_000);

  it("Redis down: the apiserver retries the verifier's 503 for the outage window (10 s), after which kubectl gets Unauthorized within seconds; recovery follows Redis", async () => {
    const t = await measureOutage(world, plane, 'redis');
    expect(t.statusDuringOutage).toBe(401);
    expect(t.kubectlDuringOutage.code).not.toBe(0);
    expect(t.kubectlDuringOutage.stderr).toMatch(/Unauthorized/);
    // The first failures carry Retry-After: client-go's REST client waits and resends, so a blip
    // shorter than verifier.storeOutageRetryWindow (default 10 s) is ridden out. Past the window the
    // 503 has no Retry-After and the apiserver fails the call: well before the 30 s lookup timeout.
    expect(t.answeredAfterS).toBeGreaterThanOrEqual(9);
    expect(t.answeredAfterS).toBeLessThan(25);
    // Redis still down, a new token: not retried at all now.
    expect(t.later.status).toBe(401);
    expect(t.later.answeredAfterS).toBeLessThan(5);
    expect(t.later.kubectl.code).not.toBe(0);
    expect(t.later.kubectl.stderr).toMatch(/Unauthorized/);
    expect(t.later.kubectlAfterS).toBeLessThan(5);
    expect(t.cachedTokenStatus).toBe(200);
    expect(t.recoveredAfterS).toBeLessThan(15);
  }, 180_000);
});
