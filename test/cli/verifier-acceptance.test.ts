import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCliProcess, type ServeProcess, spawnServe } from '../server/serve-process.js';
import { tokenReviewRequestBody } from '../support/apiserver-webhook-client.js';
import { createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { type HttpAnswer, postRaw } from '../verifier/https-post.js';
import { createVerifierPki, type VerifierPki } from '../verifier/verifier-fixture.js';

/**
 * The verifier's acceptance, run as an admin would: separate `kube-oidc-bridge` processes for
 * `token mint`, `serve` and `token revoke` against a real Redis, with the minimal configuration the
 * project documents, and TokenReviews POSTed with the apiserver's client certificate.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-acceptance-'));
let pki: VerifierPki;
let redis: TestRedis;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  buildCli();
  pki = createVerifierPki(certs);
  // Append-only file: what was stored survives the Redis restart, as in production.
  redis = await startTestRedis({ args: ['--appendonly', 'yes'] });
}, 180_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The minimal verifier file of the documentation, with this test's paths and ports. */
function writeMinimalConfig(): string {
  const file = join(dir, 'kube-oidc-bridge.yaml');
  writeFileSync(
    file,
    `store:
  redis: { url: ${redis.url} }
verifier:
  listen: 127.0.0.1:0
  tls: { cert: ${pki.server.certFile}, key: ${pki.server.keyFile}, clientCA: ${pki.clientCA.certFile} }
  audiences: [https://kubernetes.default.svc]
mapping:
  claimMappings:
    username: { claim: email, prefix: "" }
    groups: { claim: groups, prefix: "oidc:" }
`,
  );
  return file;
}

describe('acceptance: token mint → serve → review → revoke → Redis outage and recovery', () => {
  it('runs end to end with the CLI as a user would', async () => {
    const config = writeMinimalConfig();
    const mint = async () => {
      const run = await runCliProcess(
        [
          'token',
          'mint',
          '--config',
          config,
          '--audience',
          'https://kubernetes.default.svc',
          '--claims',
          '{"email":"alice@example.com","email_verified":true,"groups":["dev","ops"]}',
        ],
        dir,
      );
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.code).toBe(0);
      return run.stdout.trim();
    };
    const token = await mint();
    const spare = await mint();

    serve = spawnServe(config);
    const listening = await serve.waitForLog((l) => l.msg === 'verifier listening');
    const url = `${listening.url}/authenticate?timeout=30s`;
    const review = (t: string): Promise<HttpAnswer> =>
      postRaw(url, tokenReviewRequestBody('v1beta1', 33, t, ['https://kubernetes.default.svc']), {
        ca: pki.serverCA.cert,
        client: pki.apiserver,
      });

    const ok = await review(token);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({
      apiVersion: 'authentication.k8s.io/v1beta1',
      kind: 'TokenReview',
      status: {
        authenticated: true,
        user: { username: 'alice@example.com', groups: ['oidc:dev', 'oidc:ops'] },
        audiences: ['https://kubernetes.default.svc'],
      },
    });

    const revoke = await runCliProcess(['token', 'revoke', '--config', config, '--token', token], dir);
    expect(revoke.code).toBe(0);
    const revoked = await review(token);
    expect(revoked.status).toBe(200);
    expect(JSON.parse(revoked.body).status).toEqual({ authenticated: false });

    await redis.stop();
    const down = await review(spare);
    expect(down.status).toBeGreaterThanOrEqual(500);
    expect(down.body).not.toContain('"authenticated":true');

    await redis.start();
    const deadline = Date.now() + 15_000;
    let next = await review(spare);
    while (next.status >= 500 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      next = await review(spare);
    }
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).status).toMatchObject({
      authenticated: true,
      user: { username: 'alice@example.com' },
    });

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});
