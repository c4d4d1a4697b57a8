import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_AUDIENCE, type ControlPlane } from '../support/control-plane.js';
import { type KubeWorld, startKubeWorld } from './kube-world.js';

/**
 * Real RBAC on the groups our mapping produces: the apiserver authorizes what the webhook said, so a
 * RoleBinding to `oidc:dev` is the whole grant, and no IdP value ever becomes `system:masters`.
 */

let world: KubeWorld;
let plane: ControlPlane;

async function adminOk(args: string[]): Promise<void> {
  const run = await plane.kubectl(args);
  expect(run.code, run.stderr).toBe(0);
}

/** A session as a login stores it, bypassing the mint command's own check of the rules. */
async function loginToken(claims: Record<string, unknown>): Promise<string> {
  const tokens = world.verifier().tokens;
  const session = await tokens.createSession({
    identity: { kind: 'claims', upstream: '', claims },
    username: String(claims.email),
    source: 'admin',
  });
  return (await tokens.issueAccessToken(session, [CLUSTER_AUDIENCE])).token;
}

beforeAll(async () => {
  world = await startKubeWorld();
  plane = await world.controlPlane({ webhookVersion: 'v1' });
  await adminOk(['create', 'namespace', 'dev']);
  await adminOk(['create', 'namespace', 'prod']);
  // A Role of its own: the aggregated `view` ClusterRole is filled by kube-controller-manager, not run here.
  await adminOk(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'dev']);
  await adminOk([
    'create',
    'rolebinding',
    'dev-pod-readers',
    '--role=pod-reader',
    '--group=oidc:dev',
    '-n',
    'dev',
  ]);
}, 300_000);

afterAll(async () => {
  await world?.close();
});

describe('RBAC on mapped groups (kube-apiserver --authorization-mode=RBAC)', () => {
  it('a RoleBinding to oidc:dev lets a dev get pods in its namespace; can-i says no elsewhere', async () => {
    const token = await world.mint({ email: 'alice@example.com', email_verified: true, groups: ['dev'] });
    const pods = await plane.kubectl(['get', 'pods', '-n', 'dev'], { token });
    expect(pods.stderr).toMatch(/No resources found in dev namespace/);
    expect(pods.code).toBe(0);
    const here = await plane.kubectl(['auth', 'can-i', 'get', 'pods', '-n', 'dev'], { token });
    expect(here.stdout.trim()).toBe('yes');
    const there = await plane.kubectl(['auth', 'can-i', 'get', 'pods', '-n', 'prod'], { token });
    expect(there.stdout.trim()).toBe('no');
    expect(there.code).not.toBe(0);
    const write = await plane.kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'dev'], { token });
    expect(write.stdout.trim()).toBe('no');
    const forbidden = await plane.kubectl(['get', 'pods', '-n', 'prod'], { token });
    expect(forbidden.code).not.toBe(0);
    expect(forbidden.stderr).toMatch(
      /User "alice@example.com" cannot list resource "pods" in API group "" in the namespace "prod"/,
    );
  });

  it('the binding is on the group: a user without oidc:dev is forbidden in dev too', async () => {
    const token = await world.mint({ email: 'bob@example.com', email_verified: true, groups: ['ops'] });
    const pods = await plane.kubectl(['get', 'pods', '-n', 'dev'], { token });
    expect(pods.code).not.toBe(0);
    expect(pods.stderr).toMatch(/Forbidden|forbidden/);
  });
});

describe('the system: guard in front of the real authorizer', () => {
  it('an admin-minted system:masters identity (--allow-system) is what grants everything', async () => {
    const minted = await world.cli([
      'token',
      'mint',
      '--config',
      world.configFile,
      '--audience',
      CLUSTER_AUDIENCE,
      '--username',
      'break-glass',
      '--group',
      'system:masters',
      '--allow-system',
    ]);
    expect(minted.code, minted.stderr).toBe(0);
    const can = await plane.kubectl(['auth', 'can-i', '*', '*'], { token: minted.stdout.trim() });
    expect(can.stdout.trim()).toBe('yes');
  });

  it('a raw IdP group system:masters stays an oidc: group and grants nothing', async () => {
    const token = await world.mint({
      email: 'eve@example.com',
      email_verified: true,
      groups: ['system:masters'],
    });
    const whoami = await plane.kubectl(['auth', 'whoami', '-o', 'json'], { token });
    expect(JSON.parse(whoami.stdout).status.userInfo.groups).toEqual([
      'oidc:system:masters',
      'system:authenticated',
    ]);
    const can = await plane.kubectl(['auth', 'can-i', '*', '*'], { token });
    expect(can.stdout.trim()).toBe('no');
    const secrets = await plane.kubectl(['get', 'secrets', '-n', 'kube-system'], { token });
    expect(secrets.code).not.toBe(0);
    expect(secrets.stderr).toMatch(/forbidden/i);
  });

  it('an IdP value a rule passes through verbatim as system:masters: refused at mint, and unauthenticated at review', async () => {
    const claims = { email: 'mallory@example.com', email_verified: true, roles: ['system:masters'] };
    const mint = await world.cli([
      'token',
      'mint',
      '--config',
      world.configFile,
      '--audience',
      CLUSTER_AUDIENCE,
      '--claims',
      JSON.stringify(claims),
    ]);
    expect(mint.code).toBe(1);
    expect(mint.stderr).toMatch(/group "system:masters" starts with "system:"/);

    // A stored session whose claims the current rules turn into system:masters (say, one from before the
    // rule was written) is refused when the apiserver asks.
    const token = await loginToken(claims);
    const whoami = await plane.kubectl(['auth', 'whoami'], { token });
    expect(whoami.code).not.toBe(0);
    expect(whoami.stderr).toMatch(/Unauthorized/);
    const secrets = await plane.kubectl(['get', 'secrets', '-A'], { token });
    expect(secrets.stderr).toMatch(/Unauthorized/);
  });
});
