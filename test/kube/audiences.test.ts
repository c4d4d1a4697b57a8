import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_AUDIENCE, type ControlPlane } from '../support/control-plane.js';
import { type KubeWorld, startKubeWorld } from './kube-world.js';

/**
 * Audiences through the real apiserver: it sends its `--api-audiences` in the TokenReview and checks the
 * intersection with what the verifier answers, so a token minted for one cluster never opens another, even
 * when both clusters use the same verifier.
 */

const CLUSTER_B = 'https://cluster-b.example';

let world: KubeWorld;
let clusterA: ControlPlane;
let clusterB: ControlPlane;

beforeAll(async () => {
  world = await startKubeWorld({ audiences: [CLUSTER_AUDIENCE, CLUSTER_B] });
  [clusterA, clusterB] = await Promise.all([
    world.controlPlane({ webhookVersion: 'v1' }),
    world.controlPlane({ webhookVersion: 'v1', apiAudiences: [CLUSTER_B] }),
  ]);
}, 300_000);

afterAll(async () => {
  await world?.close();
});

async function username(plane: ControlPlane, token: string): Promise<string> {
  const run = await plane.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
    token,
  });
  return run.code === 0 ? run.stdout : `refused: ${run.stderr.trim()}`;
}

describe('--api-audiences intersect with the token audiences', () => {
  it('a token for the default audience opens the cluster that has it and not cluster B', async () => {
    const token = await world.mint({ email: 'alice@example.com', email_verified: true }, CLUSTER_AUDIENCE);
    expect(await username(clusterA, token)).toBe('alice@example.com');
    expect(await username(clusterB, token)).toMatch(/^refused: .*Unauthorized/);
  });

  it('a token for cluster B opens cluster B (--api-audiences) and not the default cluster', async () => {
    const token = await world.mint({ email: 'bob@example.com', email_verified: true }, CLUSTER_B);
    expect(await username(clusterB, token)).toBe('bob@example.com');
    expect(await username(clusterA, token)).toMatch(/^refused: .*Unauthorized/);
  });

  it('a token minted for another cluster the verifier does not serve is refused everywhere', async () => {
    const token = await world.mint(
      { email: 'dave@example.com', email_verified: true },
      'https://other.example',
    );
    expect(await username(clusterA, token)).toMatch(/^refused: .*Unauthorized/);
    expect(await username(clusterB, token)).toMatch(/^refused: .*Unauthorized/);
  });
});
