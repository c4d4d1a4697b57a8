import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KubeWorld, startKubeWorld } from '../../test/kube/kube-world.js';
import {
  measureOutage,
  measureRevocation,
  type OutageTimeline,
  type RevocationTimeline,
} from '../../test/kube/webhook-timelines.js';

/**
 * The figures docs/verifier.md quotes, measured on kube-apiserver 1.35 (tools/kube-apiserver) with the
 * verifier's and the apiserver's defaults: revocation delay with the default 2m cache TTL and with 10s,
 * and what kubectl sees while the verifier or its Redis is down. Prints a table and writes
 * test-artifacts/kube-timelines.json.
 */

let world: KubeWorld;
const results: {
  revocation: Record<string, RevocationTimeline>;
  outage: Record<
    string,
    Omit<OutageTimeline, 'kubectlDuringOutage' | 'later'> & {
      kubectl: string;
      later: Omit<OutageTimeline['later'], 'kubectl'> & { kubectl: string };
    }
  >;
} = { revocation: {}, outage: {} };

beforeAll(async () => {
  world = await startKubeWorld({ storeTimeouts: 'defaults' });
});

afterAll(async () => {
  await world?.close();
  mkdirSync('test-artifacts', { recursive: true });
  writeFileSync('test-artifacts/kube-timelines.json', `${JSON.stringify(results, null, 2)}\n`);
  const lines = [
    '| measurement | figure |',
    '|---|---|',
    ...Object.entries(results.revocation).map(
      ([ttl, r]) =>
        `| revoked token still accepted, cache TTL ${ttl} | ${r.acceptedAfterRevokeS} s after revoke (${r.refusedAfterCachedS} s after it was cached) |`,
    ),
    ...Object.entries(results.outage).map(
      ([piece, o]) =>
        `| ${piece} down: uncached token | HTTP ${o.statusDuringOutage} after ${o.answeredAfterS} s; kubectl: ${o.kubectl} |\n` +
        `| ${piece} down, asked again once that answer came: uncached token | HTTP ${o.later.status} after ${o.later.answeredAfterS} s; kubectl after ${o.later.kubectlAfterS} s: ${o.later.kubectl} |\n` +
        `| ${piece} down: token cached before | HTTP ${o.cachedTokenStatus} |\n` +
        `| ${piece} back: first new token accepted | ${o.recoveredAfterS} s after restart, no apiserver restart |`,
    ),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
});

for (const ttl of ['2m (default)', '10s']) {
  it(`revocation delay with --authentication-token-webhook-cache-ttl ${ttl}`, async () => {
    const plane = await world.controlPlane({
      webhookVersion: 'v1',
      ...(ttl === '10s' ? { webhookCacheTTL: '10s' } : {}),
    });
    const timeline = await measureRevocation(world, plane, { pollMs: 500, limitMs: 300_000 });
    expect(timeline.statusRightAfterRevoke).toBe(200);
    results.revocation[ttl] = timeline;
  });
}

for (const piece of ['verifier', 'redis'] as const) {
  it(`${piece} outage timeline (default store timeouts, default apiserver flags)`, async () => {
    const plane = await world.controlPlane({ webhookVersion: 'v1' });
    const { kubectlDuringOutage, later, ...timeline } = await measureOutage(world, plane, piece);
    expect(timeline.statusDuringOutage).toBe(401);
    results.outage[piece] = {
      ...timeline,
      kubectl: kubectlDuringOutage.stderr.trim(),
      later: { ...later, kubectl: later.kubectl.stderr.trim() },
    };
  });
}
