import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiserverDouble, startApiserverDouble } from '../support/apiserver-double.js';
import { CLUSTER_AUDIENCE, type ControlPlane, type WebhookVersion } from '../support/control-plane.js';
import { type KubectlResult, runKubectl } from '../support/k8s-tools.js';
import { type KubeWorld, startKubeWorld } from './kube-world.js';

/**
 * The apiserver double is only worth its speed while it agrees with the real kube-apiserver. The same
 * kubectl requests go to both, set up alike (same webhook kubeconfig, version, audiences, cache TTL),
 * and what kubectl sees must be the same: exit code, Unauthorized or not, the user, and how long it
 * waited. Where they differ the real apiserver is right and the double gets fixed.
 */

/** What a kubectl user can tell apart. */
interface Seen {
  code: number;
  unauthorized: boolean;
  userInfo?: unknown;
  /**
   * How long kubectl waited, in coarse bands: fast (under 3 s), the verifier's store outage window
   * (10 s by default, plus the retry in progress when it ends), or the 30 s lookup timeout.
   */
  waited: 'fast' | 'outage window' | 'about 30 s' | 'other';
}

function band(ms: number): Seen['waited'] {
  if (ms < 3000) return 'fast';
  if (ms >= 8000 && ms < 25_000) return 'outage window';
  return ms >= 28_000 && ms < 40_000 ? 'about 30 s' : 'other';
}

function seen(run: KubectlResult, ms: number): Seen {
  const waited = band(ms);
  const userInfo = run.code === 0 ? JSON.parse(run.stdout).status.userInfo : undefined;
  return { code: run.code, unauthorized: /Unauthorized/.test(run.stderr), userInfo, waited };
}

let world: KubeWorld;
const pairs = new Map<WebhookVersion, { real: ControlPlane; double: ApiserverDouble; kubeconfig: string }>();

async function whoamiBoth(version: WebhookVersion, token: string): Promise<{ real: Seen; double: Seen }> {
  const pair = pairs.get(version);
  if (!pair) throw new Error(`no pair for ${version}`);
  const args = ['auth', 'whoami', '-o', 'json'];
  const timed = async (run: () => Promise<KubectlResult>) => {
    const started = Date.now();
    const result = await run();
    return seen(result, Date.now() - started);
  };
  const [real, double] = await Promise.all([
    timed(() => pair.real.kubectl(args, { token })),
    timed(() =>
      runKubectl(['--kubeconfig', pair.kubeconfig, '--token', token, ...args], {
        home: world.certs.dir,
        timeoutMs: 90_000,
      }),
    ),
  ]);
  return { real, double };
}

beforeAll(async () => {
  world = await startKubeWorld();
  for (const version of ['v1', 'v1beta1'] as const) {
    const double = await startApiserverDouble({
      webhookConfigFile: world.webhookKubeconfig,
      webhookVersion: version,
      apiAudiences: [CLUSTER_AUDIENCE],
    });
    const kubeconfig = join(world.certs.dir, `double-${version}.kubeconfig`);
    double.writeKubeconfig(kubeconfig);
    pairs.set(version, { real: await world.controlPlane({ webhookVersion: version }), double, kubeconfig });
  }
}, 300_000);

afterAll(async () => {
  for (const pair of pairs.values()) await pair.double.close();
  await world?.close();
});

const alice = {
  sub: 'u-alice',
  email: 'alice@example.com',
  email_verified: true,
  groups: ['dev'],
  department: 'sre',
};

describe('the apiserver double agrees with kube-apiserver 1.35', () => {
  for (const version of ['v1', 'v1beta1'] as const) {
    it(`a valid token: the same user (webhook ${version})`, async () => {
      const { real, double } = await whoamiBoth(version, await world.mint(alice));
      expect(real).toMatchObject({ code: 0, waited: 'fast' });
      expect(double).toEqual(real);
    });
  }

  it('a revoked, a foreign-audience and a made-up token: Unauthorized from both', async () => {
    const revoked = await world.mint(alice);
    expect((await world.revoke(revoked)).code).toBe(0);
    const foreign = await world.mint(alice, 'https://other-cluster.example');
    for (const token of [revoked, foreign, 'kob_not-a-token']) {
      const { real, double } = await whoamiBoth('v1', token);
      expect(real).toMatchObject({ unauthorized: true, waited: 'fast' });
      expect(double).toEqual(real);
    }
  });

  it('verifier down: Unauthorized at once from both', async () => {
    const token = await world.mint(alice);
    await world.stopVerifier();
    try {
      const { real, double } = await whoamiBoth('v1', token);
      expect(real).toMatchObject({ unauthorized: true, waited: 'fast' });
      expect(double).toEqual(real);
    } finally {
      await world.startVerifier();
    }
  });

  it('Redis down: both retry the 503 + Retry-After until the outage window ends, then Unauthorized; past the window, Unauthorized at once', async () => {
    const token = await world.mint(alice);
    const later = await world.mint(alice);
    await world.redis.stop();
    try {
      const first = await whoamiBoth('v1', token);
      expect(first.real).toMatchObject({ unauthorized: true, waited: 'outage window' });
      expect(first.double).toEqual(first.real);
      // The store has now failed for longer than the window: 503 without Retry-After, not retried.
      const second = await whoamiBoth('v1', later);
      expect(second.real).toMatchObject({ unauthorized: true, waited: 'fast' });
      expect(second.double).toEqual(second.real);
    } finally {
      await world.redis.start();
    }
  }, 120_000);
});
