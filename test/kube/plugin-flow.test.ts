import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PluginCluster, type PluginWorld, startPluginWorld } from '../cli-plugin/plugin-world.js';
import { startControlPlane } from '../support/control-plane.js';

/**
 * The kubectl exec credential plugin against a real kube-apiserver: `setup` writes the kubeconfig user,
 * the first kubectl opens the login (a fake browser behind $BROWSER clicks through oidc-provider), later
 * calls are silent, and eight kubectl processes started together share one login.
 */

let world: PluginWorld<PluginCluster>;

function issuerHits(path: string): number {
  return world.harness.proxy.requests.filter((r) => r.split(' ')[1]?.startsWith(path)).length;
}

beforeAll(async () => {
  world = await startPluginWorld({}, async (webhookConfigFile, audience) => {
    const plane = await startControlPlane({
      webhookConfigFile,
      webhookVersion: 'v1',
      apiAudiences: [audience],
    });
    return { ...plane, close: () => plane.stop() };
  });
}, 300_000);

afterAll(async () => {
  await world?.close();
});

describe('kubectl with the kube-oidc-bridge exec plugin, against kube-apiserver', () => {
  it('setup → the first kubectl opens the login once → later calls are silent', async () => {
    const user = world.newUser();
    expect((await user.setup()).code).toBe(0);
    const first = await user.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).status.userInfo).toMatchObject({
      username: 'alice@example.com',
      groups: expect.arrayContaining(['oidc:platform', 'oidc:developers', 'system:authenticated']),
    });
    expect(user.browserLaunches()).toBe(1);

    const before = world.harness.proxy.requests.length;
    const later = await user.kubectl(['get', '--raw', '/version']);
    expect(later.code, later.stderr).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ major: '1', minor: '35' });
    expect(world.harness.proxy.requests.length).toBe(before);
    expect(user.browserLaunches()).toBe(1);
  });

  it('8 kubectl processes at once with an empty cache: one login, all 8 authenticated', async () => {
    const user = world.newUser();
    await user.setup();
    const logins = issuerHits('/oauth2/authorize');
    const runs = await Promise.all(
      Array.from({ length: 8 }, () =>
        user.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']),
      ),
    );
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('alice@example.com');
    }
    expect(user.browserLaunches()).toBe(1);
    expect(issuerHits('/oauth2/authorize') - logins).toBe(1);
  });
});
