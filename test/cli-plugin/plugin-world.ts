import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import {
  DEV_AUDIENCE,
  type HarnessOptions,
  type IssuerHarness,
  startIssuerHarness,
} from '../oauth/issuer-harness.js';
import { type ApiserverDouble, startApiserverDouble } from '../support/apiserver-double.js';
import { type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import { type KubectlResult, runKubectl } from '../support/k8s-tools.js';
import { runCliCaptured, writeWebhookKubeconfig } from '../support/run-cli.js';

/**
 * Everything a kubectl user meets, for real except the kube-apiserver: the issuer (with oidc-provider
 * upstream and Redis), the verifier reading the same Redis, the apiserver double calling the verifier,
 * kubectl 1.35 running `kube-oidc-bridge` from the PATH (the built bin/ → dist/), and a fake browser
 * behind $BROWSER. Each `newUser()` gets its own HOME, so its own kubeconfig and token cache.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const binScript = join(repoRoot, 'bin', 'kube-oidc-bridge.js');
const fakeBrowser = join(repoRoot, 'test', 'cli-plugin', 'fixtures', 'fake-browser.mjs');

export interface PluginUser {
  home: string;
  kubeconfig: string;
  /** Environment the plugin sees (through kubectl or when run by hand). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** How many times the fake browser was launched for this user. */
  browserLaunches(): number;
  /** `kube-oidc-bridge setup` into this user's kubeconfig. */
  setup(extra?: string[]): Promise<{ code: number; stderr: string }>;
  kubectl(args: string[], extraEnv?: Record<string, string>): Promise<KubectlResult>;
  /** Runs `kube-oidc-bridge ARGS` by hand (no KUBERNETES_EXEC_INFO, as in a terminal). */
  spawnPlugin(args: string[], extraEnv?: Record<string, string>): ChildProcess;
  /** The cache entries on disk. */
  cacheDir: string;
}

/** The apiserver kubectl talks to: the double by default, or a real one (test/support/control-plane.ts). */
export interface PluginCluster {
  url: string;
  caFile: string;
  writeKubeconfig(file: string, user?: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Starts the apiserver that calls the verifier through `webhookKubeconfig`, with `audience` as its API audience. */
export type StartPluginCluster<C extends PluginCluster> = (
  webhookKubeconfig: string,
  audience: string,
) => Promise<C>;

export interface PluginWorld<C extends PluginCluster = ApiserverDouble> {
  harness: IssuerHarness;
  /** The apiserver (the double unless startPluginWorld was given another). */
  double: C;
  newUser(): PluginUser;
  close(): Promise<void>;
}

export interface PluginWorldOptions extends HarnessOptions {
  /**
   * A standalone `kube-oidc-bridge` executable to put on the PATH instead of the Node.js script; the
   * PATH then holds nothing else, so no `node` can be found on it.
   */
  executable?: string;
}

export async function startPluginWorld<C extends PluginCluster = ApiserverDouble>(
  options: PluginWorldOptions = {},
  startCluster?: StartPluginCluster<C>,
): Promise<PluginWorld<C>> {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  const root = mkdtempSync(join(tmpdir(), 'kob-plugin-'));
  const binDir = join(root, 'bin');
  mkdirSync(binDir);
  symlinkSync(options.executable ?? binScript, join(binDir, 'kube-oidc-bridge'));
  // The plugin script's `#!/usr/bin/env node` finds the Node.js running the tests first, so a test run
  // on another runtime (CI runs Node 20 and 24) runs the plugin under kubectl on it too.
  const path = options.executable
    ? binDir
    : `${binDir}:${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  const certs: CertWorkspace = createCertWorkspace();
  const harness = await startIssuerHarness(options);

  const verifierCA = certs.createCA('verifier');
  const serving = verifierCA.issue({ commonName: 'verifier', ipAddresses: ['127.0.0.1'] });
  const clientCA = certs.createCA('apiserver-clients');
  const apiserverClient = clientCA.issue({ commonName: 'kube-apiserver', client: true });
  const verifierConfig = parseConfig(
    {
      store: { redis: { url: harness.redis.url, keyPrefix: 'kob-test:' } },
      verifier: {
        listen: '127.0.0.1:0',
        tls: { cert: serving.certFile, key: serving.keyFile, clientCA: clientCA.certFile },
        audiences: [DEV_AUDIENCE],
      },
      mapping: harness.config.mapping,
    },
    { env: {}, baseDir: root },
  );
  const services: RunningServices = await startServices(verifierConfig, {
    env: {},
    logger: createLogger({ level: 'error' }),
  });
  const webhookKubeconfig = await writeWebhookKubeconfig({
    verifierURL: services.verifierURL as string,
    caFile: verifierCA.certFile,
    clientCert: apiserverClient,
    out: join(root, 'webhook.kubeconfig'),
    cwd: root,
  });
  const double = startCluster
    ? await startCluster(webhookKubeconfig, DEV_AUDIENCE)
    : ((await startApiserverDouble({
        webhookConfigFile: webhookKubeconfig,
        apiAudiences: [DEV_AUDIENCE],
        certs,
      })) as unknown as C);

  let users = 0;
  return {
    harness,
    double,
    newUser() {
      users += 1;
      const home = join(root, `user-${users}`);
      mkdirSync(home);
      const kubeconfig = join(home, '.kube', 'config');
      const browserLog = join(home, 'browser.log');
      const env = (extra: Record<string, string> = {}) => ({
        PATH: path,
        HOME: home,
        BROWSER: `${process.execPath} ${fakeBrowser}`,
        FAKE_BROWSER_LOG: browserLog,
        ...extra,
      });
      return {
        home,
        kubeconfig,
        cacheDir: join(home, '.kube', 'cache', 'kube-oidc-bridge'),
        env,
        browserLaunches: () =>
          existsSync(browserLog) ? readFileSync(browserLog, 'utf8').split('\n').length - 1 : 0,
        async setup(extra = []) {
          const { code, stderr } = await runCliCaptured(
            [
              'setup',
              '--issuer',
              harness.url,
              '--cluster-name',
              'dev',
              '--server',
              double.url,
              '--certificate-authority',
              double.caFile,
              '--audience',
              DEV_AUDIENCE,
              ...extra,
            ],
            { env: env(), cwd: home },
          );
          return { code, stderr };
        },
        kubectl: (args, extraEnv) => runKubectl(args, { home, env: env(extraEnv), timeoutMs: 60_000 }),
        spawnPlugin: (args, extraEnv) =>
          options.executable
            ? spawn(options.executable, args, { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] })
            : spawn(process.execPath, [binScript, ...args], {
                env: env(extraEnv),
                stdio: ['ignore', 'pipe', 'pipe'],
              }),
      };
    },
    async close() {
      await double.close();
      await services.close();
      await harness.close();
      certs.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Collects a child's output and exit code. */
export async function finished(
  child: ChildProcess,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  return { code, stdout, stderr };
}
