import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { type ApiserverDouble, startApiserverDouble } from '../support/apiserver-double.js';
import type { WebhookVersion } from '../support/apiserver-webhook-client.js';
import { type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import { runKubectl } from '../support/k8s-tools.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { type CliRun, runCliCaptured, writeWebhookKubeconfig } from '../support/run-cli.js';

/**
 * End to end, every piece real except the kube-apiserver: an admin mints a token with `token mint`,
 * writes the apiserver's webhook kubeconfig with `webhook-config`, the verifier (startServices, mTLS)
 * answers the double's TokenReviews from a real redis-server, and kubectl 1.35 shows who the verifier
 * said the user is.
 */

const CLUSTER_AUDIENCE = 'https://kubernetes.default.svc';

function cli(args: string[], cwd: string): Promise<CliRun> {
  return runCliCaptured(args, { cwd });
}

describe('kubectl 1.35 → kube-apiserver double → verifier → Redis', () => {
  let certs: CertWorkspace;
  let redis: TestRedis;
  let services: RunningServices;
  let configFile: string;
  let webhookKubeconfig: string;

  async function mint(claims: Record<string, unknown>, audience = CLUSTER_AUDIENCE): Promise<string> {
    const res = await cli(
      ['token', 'mint', '--config', configFile, '--audience', audience, '--claims', JSON.stringify(claims)],
      certs.dir,
    );
    expect(res.stderr).toMatch(/minted a token/);
    expect(res.code).toBe(0);
    return res.stdout.trim();
  }

  async function kubectl(double: ApiserverDouble, token: string, args: string[]) {
    const kubeconfig = join(certs.dir, `kubeconfig-${double.url.replace(/\D/g, '')}`);
    double.writeKubeconfig(kubeconfig);
    return runKubectl(['--kubeconfig', kubeconfig, '--token', token, ...args], { home: certs.dir });
  }

  beforeAll(async () => {
    certs = createCertWorkspace();
    redis = await startTestRedis();
    const verifierCA = certs.createCA('verifier');
    const serving = verifierCA.issue({ commonName: 'verifier', ipAddresses: ['127.0.0.1'] });
    const clientCA = certs.createCA('apiserver-clients');
    const apiserverClient = clientCA.issue({ commonName: 'kube-apiserver', client: true });
    configFile = join(certs.dir, 'bridge.yaml');
    writeFileSync(
      configFile,
      [
        'store:',
        `  redis: { url: "${redis.url}" }`,
        'verifier:',
        '  listen: 127.0.0.1:0',
        `  tls: { cert: "${serving.certFile}", key: "${serving.keyFile}", clientCA: "${clientCA.certFile}" }`,
        `  audiences: ["${CLUSTER_AUDIENCE}"]`,
        'mapping:',
        '  claimMappings:',
        '    username: { claim: email, prefix: "" }',
        '    groups: { claim: groups, prefix: "oidc:" }',
        '',
      ].join('\n'),
    );
    services = await startServices(loadConfigFile(configFile, {}), {
      env: {},
      logger: createLogger({ level: 'error' }),
    });
    webhookKubeconfig = await writeWebhookKubeconfig({
      verifierURL: services.verifierURL as string,
      caFile: verifierCA.certFile,
      clientCert: apiserverClient,
      out: join(certs.dir, 'webhook.kubeconfig'),
      cwd: certs.dir,
    });
  });

  afterAll(async () => {
    await services?.close();
    await redis?.close();
    certs?.dispose();
  });

  const versions: WebhookVersion[] = ['v1beta1', 'v1'];
  for (const version of versions) {
    it(`kubectl get --raw /version and auth whoami show the mapped user (webhook ${version})`, async () => {
      const token = await mint({ email: 'alice@example.com', email_verified: true, groups: ['dev', 'ops'] });
      const double = await startApiserverDouble({
        webhookConfigFile: webhookKubeconfig,
        webhookVersion: version,
        certs,
      });
      try {
        const got = await kubectl(double, token, ['get', '--raw', '/version']);
        expect(got.stderr).toBe('');
        expect(got.code).toBe(0);
        expect(JSON.parse(got.stdout)).toMatchObject({ gitVersion: 'v1.35.0' });

        const whoami = await kubectl(double, token, ['auth', 'whoami', '-o', 'json']);
        expect(whoami.code).toBe(0);
        const userInfo = JSON.parse(whoami.stdout).status.userInfo;
        expect(userInfo.username).toBe('alice@example.com');
        expect(userInfo.groups).toEqual(['oidc:dev', 'oidc:ops', 'system:authenticated']);

        // One review for both kubectl runs (the second came from the apiserver's cache), over mTLS,
        // answered 200 in the version it was asked in, with the audience the apiserver asked for.
        expect(double.reviews).toHaveLength(1);
        const exchange = double.reviews[0];
        expect(exchange?.status).toBe(200);
        const answer = JSON.parse(exchange?.responseBody ?? '{}');
        expect(answer).toMatchObject({
          apiVersion: `authentication.k8s.io/${version}`,
          kind: 'TokenReview',
          status: { authenticated: true, audiences: [CLUSTER_AUDIENCE] },
        });
      } finally {
        await double.close();
      }
    });
  }

  it('a revoked token: kubectl fails with Unauthorized', async () => {
    const token = await mint({ email: 'bob@example.com', email_verified: true, groups: ['dev'] });
    const revoked = await cli(['token', 'revoke', '--config', configFile, '--token', token], certs.dir);
    expect(revoked.code).toBe(0);
    const double = await startApiserverDouble({ webhookConfigFile: webhookKubeconfig, certs });
    try {
      const got = await kubectl(double, token, ['get', '--raw', '/version']);
      expect(got.code).not.toBe(0);
      expect(got.stderr).toMatch(/Unauthorized/);
      expect(JSON.parse(double.reviews[0]?.responseBody ?? '{}').status.authenticated).toBe(false);
    } finally {
      await double.close();
    }
  });

  it('revocation reaches kubectl once the apiserver cache entry (2m) expires', async () => {
    const token = await mint({ email: 'carol@example.com', email_verified: true, groups: ['dev'] });
    const clock = new ManualClock();
    const double = await startApiserverDouble({ webhookConfigFile: webhookKubeconfig, clock, certs });
    try {
      expect((await kubectl(double, token, ['get', '--raw', '/version'])).code).toBe(0);
      expect((await cli(['token', 'revoke', '--config', configFile, '--token', token], certs.dir)).code).toBe(
        0,
      );
      // Still accepted from the apiserver's cache, exactly as a real cluster behaves…
      expect((await kubectl(double, token, ['get', '--raw', '/version'])).code).toBe(0);
      clock.advance(121);
      // …until the cached answer expires and the verifier is asked again.
      const after = await kubectl(double, token, ['get', '--raw', '/version']);
      expect(after.code).not.toBe(0);
      expect(after.stderr).toMatch(/Unauthorized/);
      expect(double.reviews).toHaveLength(2);
    } finally {
      await double.close();
    }
  });

  it("a token minted for another cluster's audience: kubectl fails with Unauthorized", async () => {
    const token = await mint(
      { email: 'dave@example.com', email_verified: true, groups: ['dev'] },
      'https://other-cluster.example',
    );
    const double = await startApiserverDouble({ webhookConfigFile: webhookKubeconfig, certs });
    try {
      const got = await kubectl(double, token, ['auth', 'whoami', '-o', 'json']);
      expect(got.code).not.toBe(0);
      expect(got.stderr).toMatch(/Unauthorized/);
      expect(double.requests.at(-1)?.outcome.result).not.toBe('authenticated');
    } finally {
      await double.close();
    }
  });
});
