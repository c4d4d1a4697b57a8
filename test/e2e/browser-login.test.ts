import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { DEMO_AUDIENCE } from '../../src/demo/start-demo.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { type ApiserverDouble, startApiserverDouble } from '../support/apiserver-double.js';
import { type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import { runKubectl } from '../support/k8s-tools.js';
import { type LoginWorld, startDemoWorld, startHydraWorld } from '../support/login-worlds.js';
import { writeWebhookKubeconfig } from '../support/run-cli.js';

/**
 * The quick start, end to end, in Debian's Chromium, once per real upstream IdP with the same
 * assertions: first the demo world (`kube-oidc-bridge demo`: oidc-provider, issuer, verifier, memory
 * store), then the same bridge in front of ORY Hydra v2 serving docker-compose's Dex client and user.
 * The start page, the IdP's sign-in, the result page; the token read off the page is authenticated by
 * the verifier exactly as the printed curl example does, and then by kubectl 1.35 through the
 * kube-apiserver double and a mutual-TLS verifier on the same store. Every log line of the run is
 * captured and searched for secrets. Screenshots go to test-artifacts/.
 */

const ARTIFACTS = 'test-artifacts';
const SCENARIO =
  'start page → IdP sign-in form → result page; the token on the page authenticates, also through kubectl and the apiserver double; no secret in any log line';
let browser: Browser;

/** One world's run: its captured log lines, the secrets seen, and what to stop afterwards. */
interface Run {
  logs: string[];
  /** Every secret value seen during the run: tokens, codes, refresh tokens, cookie values. */
  secrets: Set<string>;
  logger: Logger;
  certs?: CertWorkspace;
  mtlsVerifier?: RunningServices;
  apiserver?: ApiserverDouble;
}

function newRun(): Run {
  const logs: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => logs.push(line) } });
  return { logs, secrets: new Set(), logger };
}

async function endRun(run: Run): Promise<void> {
  await run.apiserver?.close();
  await run.mtlsVerifier?.close();
  run.certs?.dispose();
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
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
});

/**
 * A production-shaped verifier (mTLS) reading the demo's store, behind the kube-apiserver double that
 * reads the webhook kubeconfig written by `webhook-config`: the path a real cluster takes.
 */
async function startClusterPath(
  run: Run,
  world: LoginWorld,
): Promise<{
  apiserver: ApiserverDouble;
  kubeconfigFor(token: string): string;
}> {
  const certs = createCertWorkspace();
  run.certs = certs;
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
  const mtlsVerifier = await startServices(config, {
    env: {},
    store: world.services.store,
    logger: run.logger,
  });
  run.mtlsVerifier = mtlsVerifier;
  const webhookKubeconfig = await writeWebhookKubeconfig({
    verifierURL: mtlsVerifier.verifierURL as string,
    caFile: ca.certFile,
    clientCert: client,
    out: join(certs.dir, 'webhook.kubeconfig'),
    cwd: certs.dir,
  });
  const double = await startApiserverDouble({
    webhookConfigFile: webhookKubeconfig,
    apiAudiences: [DEMO_AUDIENCE],
  });
  run.apiserver = double;
  return {
    apiserver: double,
    kubeconfigFor(token) {
      const file = join(certs.dir, 'kubectl.kubeconfig');
      double.writeKubeconfig(file, { token });
      return file;
    },
  };
}

/** The scenario every world passes, with the same assertions; `shots` prefixes the screenshots. */
async function signInScenario(world: LoginWorld, run: Run, shots: string): Promise<void> {
  const { secrets, logs } = run;
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

  await page.goto(`${world.issuerURL}/`);
  await expect.poll(() => page.title()).toContain('Sign in to Kubernetes');
  await page.screenshot({ path: `${ARTIFACTS}/${shots}issuer-start-page.png`, fullPage: true });

  await page.getByRole('link', { name: world.upstreamLink }).click();
  await world.signInAtIdp(page);
  await page.waitForURL(`${world.issuerURL}/result`);

  expect(await page.locator('#username').textContent()).toBe('demo@example.com');
  expect(await page.locator('#groups li').allTextContents()).toEqual(['demo:developers', 'demo:viewers']);
  const token = ((await page.locator('#token').textContent()) ?? '').trim();
  expect(token).toMatch(/^kob_/);
  secrets.add(token);
  // The copy buttons appear only when the same-origin script ran under the CSP.
  await expect.poll(() => page.getByRole('button', { name: 'Copy token' }).isVisible()).toBe(true);
  await page.screenshot({ path: `${ARTIFACTS}/${shots}issuer-result-page.png`, fullPage: true });
  expect(problems).toEqual([]);
  for (const cookie of await context.cookies()) if (cookie.value.length >= 8) secrets.add(cookie.value);

  const answer = await fetch(world.reviewURL, {
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
  const cluster = await startClusterPath(run, world);
  const whoami = await runKubectl(
    ['--kubeconfig', cluster.kubeconfigFor(token), 'auth', 'whoami', '-o', 'json'],
    { home: run.certs?.dir as string },
  );
  expect(whoami.code, whoami.stderr).toBe(0);
  const seen = JSON.parse(whoami.stdout) as {
    status: { userInfo: { username: string; groups: string[] } };
  };
  expect(seen.status.userInfo.username).toBe('demo@example.com');
  expect(seen.status.userInfo.groups).toEqual(['demo:developers', 'demo:viewers', 'system:authenticated']);
  expect(cluster.apiserver.reviews.length).toBeGreaterThan(0);

  // The IdP granted offline access: the session keeps its (sealed) refresh token until sign-out.
  const sessions = await world.services.store.listSessions();
  expect(sessions.some((s) => s.upstreamRefreshToken)).toBe(true);
  for (const s of sessions) if (s.upstreamRefreshToken) secrets.add(s.upstreamRefreshToken);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => page.textContent('main')).toContain('You are signed out');
  await context.close();

  expect(secrets.size).toBeGreaterThanOrEqual(5);
  expect(logs.length).toBeGreaterThan(5);
  const leaks = [...secrets].filter((secret) => logs.some((line) => line.includes(secret)));
  expect(leaks).toEqual([]);
  expect(logs.some((l) => /"event":"login"/.test(l) && /"result":"success"/.test(l))).toBe(true);
  expect(logs.some((l) => /"event":"mint"/.test(l))).toBe(true);
}

describe('browser sign-in on the embedded demo (npm start)', () => {
  const run = newRun();
  let world: LoginWorld | undefined;
  beforeAll(async () => {
    world = await startDemoWorld({ logger: run.logger, onSecret: (secret) => run.secrets.add(secret) });
  });
  afterAll(async () => {
    await endRun(run);
    await world?.close();
  });

  it(SCENARIO, () => signInScenario(world as LoginWorld, run, ''));
});

describe('browser sign-in with ORY Hydra v2 as the upstream (docker-compose’s Dex client and user)', () => {
  const run = newRun();
  let world: LoginWorld | undefined;
  beforeAll(async () => {
    world = await startHydraWorld({ logger: run.logger });
  });
  afterAll(async () => {
    await endRun(run);
    await world?.close();
  });

  it(SCENARIO, () => signInScenario(world as LoginWorld, run, 'hydra-'));
});
