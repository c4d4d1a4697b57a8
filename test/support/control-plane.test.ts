import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from './control-plane.js';
import { startEtcd } from './etcd.js';

describe('the real control plane harness', () => {
  let plane: ControlPlane;
  beforeAll(async () => {
    plane = await startControlPlane();
  }, 300_000);
  afterAll(async () => {
    await plane?.stop();
  });

  it("its admin is a client certificate in system:masters, and RBAC's bootstrap roles are there", async () => {
    const whoami = await plane.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({
      username: 'test-admin',
      groups: ['system:masters', 'system:authenticated'],
    });
    const roles = await plane.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin');
    expect(roles.status).toBe(200);
  });
});

describe('without the Go-built binaries', () => {
  const empty = mkdtempSync(join(tmpdir(), 'kob-no-tools-'));
  const saved = process.env.KOB_TOOLS_CACHE;
  beforeAll(() => {
    // tools/build.sh --path reads the cache folder from the environment goToolPath hands it.
    process.env.KOB_TOOLS_CACHE = empty;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.KOB_TOOLS_CACHE;
    else process.env.KOB_TOOLS_CACHE = saved;
    rmSync(empty, { recursive: true, force: true });
  });

  it('fails (never skips) and says how to build them', async () => {
    await expect(startControlPlane()).rejects.toThrow(
      /the test peer 'kube-apiserver' is not built: run 'bash tools\/build.sh kube-apiserver'/,
    );
    await expect(startEtcd()).rejects.toThrow(
      /the test peer 'etcd' is not built: run 'bash tools\/build.sh etcd'/,
    );
  });
});
