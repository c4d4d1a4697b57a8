import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { DEMO_AUDIENCE, type RunningDemo, startDemo } from '../../src/demo/start-demo.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { type ApiserverDouble, startApiserverDouble } from '../support/apiserver-double.js';
import { type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import { freePort } from '../support/free-port.js';
import { runKubectl } from '../support/k8s-tools.js';
import { writeWebhookKubeconfig } from '../support/run-cli.js';

/**
 * The quick start, end to end, in Debian's Chromium: the demo world (`kube-oidc-bridge demo`: demo IdP,
 * issuer, verifier, memory store), the start page, the IdP's sign-in form, the result page; the token
 * read off the page is authenticated by the verifier exactly as the printed curl example does, and then by
 * kubectl 1.35 through the kube-apiserver double and a mutual-TLS verifier on the same store. Every
 * log line of the run is captured and searched for secrets. Screenshots go to test-artifacts/.
 */

const ARTIFACTS = 'test-artifacts';
let demo: RunningDemo;
let browser: Browser;
let certs: CertWorkspace;
let mtlsVerifier: RunningServices | undefined;
let apiserver: ApiserverDouble | undefined;
const logs: string[] = [];
/** Every secret value seen during the run: tokens, codes, refresh tokens, cookie values. */
const secrets = new Set<string>();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  demo = await startDemo({
    ports: { issuer: await freePort(), verifier: await freePort(), idp: await freePort() },
    env: {},
    logger: createLogger({ level: 'trace', destination: { write: (line: string) => logs.push(line) } }),
  });
  // oidc-provider's opaque artifacts: their value is the id it emits on save.
  for (const event of ['authorization_code.saved', 'access_token.saved', 'refresh_token.saved']) {
    demo.idp.provider.on(event, (artifact: { jti?: string }) => {
      if (artifact.jti) secrets.add(artifact.jti);
    });
  }
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await apiserver?.close();
  await mtlsVerifier?.close();
  await demo?.close();
  certs?.dispose();
});

/**
 * A production-shaped verifier (mTLS) reading the demo's store, behind the kube-apiserver double that
 * reads the webhook kubeconfig written by `webhook-config`: the path a real cluster takes.
 */
async function startClusterPath(): Promise<{
  apiserver: ApiserverDouble;
  kubeconfigFor(token: string): string;
}> {
  certs = createCertWorkspace();
  const ca = certs.createCA('browser-e2e');
  const server = ca.issue({ commonName: 'verifier', ipAddresses: ['127.0.0.1'] });
  const client = ca.issue({ commonName: 'kube-apiserver', client: true });
  const config = parseConfig(
    {
      store: { memory: {} },
      verifier: {
        listen: '127.0.0.1:0',
        tls: { cert: server.certFile, key: server.keyFile, clientCA: ca.certFile },
        audiences: [DEMO_AUDIENCE],
      },
      mapping: {
        claimMappings: {
          username: { claim: 'email', prefix: '' },
          groups: { claim: 'groups', prefix: 'demo:' },
        },
      },
    },
    { env: {}, baseDir: certs.dir },
  );
  mtlsVerifier = await startServices(config, {
    env: {},
    store: demo.services.store,
    logger: createLogger({ level: 'trace', destination: { write: (line: string) => logs.push(line) } }),
  });
  const webhookKubeconfig = await writeWebhookKubeconfig({
    verifierURL: mtlsVerifier.verifierURL as string,
    caFile: ca.certFile,
    clientCert: client,
    out: join(certs.dir, 'webhook.kubeconfig'),
    cwd: certs.dir,
  });
  apiserver = await startApiserverDouble({
    webhookConfigFile: webhookKubeconfig,
    apiAudiences: [DEMO_AUDIENCE],
  });
  const double = apiserver;
  return {
    apiserver: double,
    kubeconfigFor(token) {
      const file = join(certs.dir, 'kubectl.kubeconfig');
      double.writeKubeconfig(file, { token });
      return file;
    },
  };
}

describe('browser sign-in on the embedded demo (npm start)', () => {
  it('start page → IdP sign-in form → result page; the token on the page authenticates, also through kubectl and the apiserver double; no secret in any log line', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('request', (request) => {
      const code = new URL(request.url()).searchParams.get('code');
      if (code) secrets.add(code);
    });

    await page.goto(`${demo.issuerURL}/`);
    await expect.poll(() => page.title()).toContain('Sign in to Kubernetes');
    await page.screenshot({ path: `${ARTIFACTS}/issuer-start-page.png`, fullPage: true });

    await page.getByRole('link', { name: 'Sign in with Demo IdP' }).click();
    await page.getByLabel('Username').fill(demo.user.username);
    await page.getByLabel('Password').fill(demo.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${demo.issuerURL}/result`);

    expect(await page.locator('#username').textContent()).toBe('demo@example.com');
    expect(await page.locator('#groups li').allTextContents()).toEqual(['demo:developers', 'demo:viewers']);
    const token = ((await page.locator('#token').textContent()) ?? '').trim();
    expect(token).toMatch(/^kob_/);
    secrets.add(token);
    // The copy buttons appear only when the same-origin script ran under the CSP.
    await expect.poll(() => page.getByRole('button', { name: 'Copy token' }).isVisible()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/issuer-result-page.png`, fullPage: true });
    expect(problems).toEqual([]);
    for (const cookie of await context.cookies()) if (cookie.value.length >= 8) secrets.add(cookie.value);

    const answer = await fetch(demo.reviewURL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: ['https://kubernetes.default.svc'] },
      }),
    });
    const review = (await answer.json()) as { status: { authenticated: boolean; user: unknown } };
    expect(review.status.authenticated).toBe(true);
    expect(review.status.user).toMatchObject({
      username: 'demo@example.com',
      groups: ['demo:developers', 'demo:viewers'],
    });

    // The cluster's path: kubectl 1.35 → kube-apiserver double → webhook (mTLS) → verifier → store.
    const cluster = await startClusterPath();
    const whoami = await runKubectl(
      ['--kubeconfig', cluster.kubeconfigFor(token), 'auth', 'whoami', '-o', 'json'],
      {
        home: certs.dir,
      },
    );
    expect(whoami.code, whoami.stderr).toBe(0);
    const seen = JSON.parse(whoami.stdout) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    expect(seen.status.userInfo.username).toBe('demo@example.com');
    expect(seen.status.userInfo.groups).toEqual(['demo:developers', 'demo:viewers', 'system:authenticated']);
    expect(cluster.apiserver.reviews.length).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.textContent('main')).toContain('You are signed out');
    await context.close();

    const sessions = await demo.services.store.listSessions();
    for (const s of sessions) if (s.upstreamRefreshToken) secrets.add(s.upstreamRefreshToken);
    expect(secrets.size).toBeGreaterThanOrEqual(5);
    expect(logs.length).toBeGreaterThan(5);
    const leaks = [...secrets].filter((secret) => logs.some((line) => line.includes(secret)));
    expect(leaks).toEqual([]);
    expect(logs.some((l) => /"event":"login"/.test(l) && /"result":"success"/.test(l))).toBe(true);
    expect(logs.some((l) => /"event":"mint"/.test(l))).toBe(true);
  });
});
