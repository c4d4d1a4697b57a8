import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane, WebhookVersion } from '../support/control-plane.js';
import { type KubeWorld, startKubeWorld } from './kube-world.js';

/**
 * A minted token through the real kube-apiserver: `kubectl auth whoami` (a SelfSubjectReview answered by
 * the apiserver from what our webhook said) shows the mapped username, uid, groups and extra, with the
 * apiserver asking in TokenReview v1 and in v1beta1.
 */

let world: KubeWorld;
const planes = new Map<WebhookVersion, ControlPlane>();

beforeAll(async () => {
  world = await startKubeWorld();
  const [v1, v1beta1] = await Promise.all([
    world.controlPlane({ webhookVersion: 'v1' }),
    world.controlPlane({ webhookVersion: 'v1beta1' }),
  ]);
  planes.set('v1', v1);
  planes.set('v1beta1', v1beta1);
}, 300_000);

afterAll(async () => {
  await world?.close();
});

describe('kubectl auth whoami against kube-apiserver 1.35 with the token webhook', () => {
  for (const version of ['v1', 'v1beta1'] as const) {
    it(`a minted token shows the mapped username, uid, groups and extra (webhook ${version})`, async () => {
      const plane = planes.get(version) as ControlPlane;
      const token = await world.mint({
        sub: 'u-alice',
        email: 'alice@example.com',
        email_verified: true,
        groups: ['dev', 'ops'],
        department: 'platform',
      });
      const whoami = await plane.kubectl(['auth', 'whoami', '-o', 'json'], { token });
      expect(whoami.stderr).toBe('');
      expect(whoami.code).toBe(0);
      expect(JSON.parse(whoami.stdout).status.userInfo).toEqual({
        username: 'alice@example.com',
        uid: 'u-alice',
        groups: ['oidc:dev', 'oidc:ops', 'system:authenticated'],
        extra: { 'example.com/department': ['platform'] },
      });
      const version_ = await plane.kubectl(['get', '--raw', '/version'], { token });
      expect(JSON.parse(version_.stdout)).toMatchObject({ major: '1', minor: '35' });
    });
  }

  it('a token the verifier does not know: kubectl sees Unauthorized', async () => {
    const plane = planes.get('v1') as ControlPlane;
    const forged = await world.mint({ email: 'x@example.com', email_verified: true });
    const got = await plane.kubectl(['auth', 'whoami'], { token: `${forged.slice(0, -4)}AAAA` });
    expect(got.code).not.toBe(0);
    expect(got.stderr).toMatch(/Unauthorized/);
  });
});
