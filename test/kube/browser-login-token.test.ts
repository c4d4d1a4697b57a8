import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { DEMO_AUDIENCE, type RunningDemo, startDemo } from '../../src/demo/start-demo.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import { type ControlPlane, startControlPlane, type WebhookVersion } from '../support/control-plane.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import { freePort } from '../support/free-port.js';
import { writeWebhookKubeconfig } from '../support/run-cli.js';

/**
 * A token from the browser sign-in (Chromium on the issuer's pages and the IdP's form) through the real
 * kube-apiserver: kubectl auth whoami shows the mapped user, with the webhook in v1 and in v1beta1.
 */

let demo: RunningDemo;
let browser: Browser;
let certs: CertWorkspace;
let etcd: TestEtcd;
let verifier: RunningServices;
const planes = new Map<WebhookVersion, ControlPlane>();

beforeAll(async () => {
  demo = await startDemo({
    ports: { issuer: await freePort(), verifier: await freePort(), idp: await freePort() },
    env: {},
    logger: createLogger({ level: 'silent' }),
  });
  certs = createCertWorkspace();
  const ca = certs.createCA('browser-login-verifier');
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
  // The production-shaped verifier (mTLS) reads the demo's store, where the browser login put the token.
  verifier = await startServices(config, {
    env: {},
    store: demo.services.store,
    logger: createLogger({ level: 'silent' }),
  });
  const webhookConfigFile = await writeWebhookKubeconfig({
    verifierURL: verifier.verifierURL as string,
    caFile: ca.certFile,
    clientCert: client,
    out: join(certs.dir, 'webhook.kubeconfig'),
    cwd: certs.dir,
  });
  etcd = await startEtcd();
  const start = (webhookVersion: WebhookVersion) =>
    startControlPlane({ webhookConfigFile, webhookVersion, apiAudiences: [DEMO_AUDIENCE], etcd, certs });
  const [v1, v1beta1] = await Promise.all([start('v1'), start('v1beta1')]);
  planes.set('v1', v1);
  planes.set('v1beta1', v1beta1);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const plane of planes.values()) await plane.stop();
  await etcd?.close();
  await verifier?.close();
  await demo?.close();
  certs?.dispose();
});

async function browserLogin(): Promise<string> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${demo.issuerURL}/`);
    await page.getByRole('link', { name: 'Sign in with Demo IdP' }).click();
    await page.getByLabel('Username').fill(demo.user.username);
    await page.getByLabel('Password').fill(demo.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${demo.issuerURL}/result`);
    return ((await page.locator('#token').textContent()) ?? '').trim();
  } finally {
    await context.close();
  }
}

describe('a browser-login token through kube-apiserver', () => {
  for (const version of ['v1', 'v1beta1'] as const) {
    it(`kubectl auth whoami shows the signed-in user and mapped groups (webhook ${version})`, async () => {
      const token = await browserLogin();
      expect(token).toMatch(/^kob_/);
      const plane = planes.get(version) as ControlPlane;
      const whoami = await plane.kubectl(['auth', 'whoami', '-o', 'json'], { token });
      expect(whoami.code, whoami.stderr).toBe(0);
      expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({
        username: 'demo@example.com',
        groups: ['demo:developers', 'demo:viewers', 'system:authenticated'],
      });
    });
  }
});
