import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type ConfigFileInput, loadConfigFile } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import {
  CLUSTER_AUDIENCE,
  type ControlPlane,
  type ControlPlaneOptions,
  startControlPlane,
} from '../support/control-plane.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import { freePort } from '../support/free-port.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { type CliRun, runCliCaptured, writeWebhookKubeconfig } from '../support/run-cli.js';

/**
 * The world a cluster admin builds: Redis, the verifier (mTLS, on a fixed loopback port so it can be
 * stopped and started again at the same address), the apiserver's webhook kubeconfig written by our
 * `webhook-config` command, and real kube-apiservers (sharing one etcd) that call it. Tokens are minted
 * and revoked with the admin CLI against the same config file.
 */

/**
 * The mapping every suite here runs: IdP groups get the `oidc:` prefix; a `roles` claim is passed
 * through verbatim (the kind of rule the system: guard exists for), the department becomes an extra.
 */
export const WORLD_MAPPING: NonNullable<ConfigFileInput['mapping']> = {
  claimMappings: {
    username: { claim: 'email', prefix: '' },
    uid: { expression: "has(claims.sub) ? claims.sub : ''" },
    groups: {
      expression:
        "(has(claims.groups) ? claims.groups.map(g, 'oidc:' + g) : []) + (has(claims.roles) ? claims.roles : [])",
    },
    extra: [
      {
        key: 'example.com/department',
        valueExpression: 'has(claims.department) ? [claims.department] : []',
      },
    ],
  },
};

export interface KubeWorld {
  certs: CertWorkspace;
  redis: TestRedis;
  etcd: TestEtcd;
  /** The verifier's config file (for `token mint|revoke --config`). */
  configFile: string;
  /** The apiserver's `--authentication-token-webhook-config-file`, written by `webhook-config`. */
  webhookKubeconfig: string;
  /** The running verifier (undefined while stopped). */
  verifier(): RunningServices;
  stopVerifier(): Promise<void>;
  startVerifier(): Promise<void>;
  /** `token mint --claims` through the CLI; resolves with the token. */
  mint(claims: Record<string, unknown>, audience?: string): Promise<string>;
  /** Any `kube-oidc-bridge` command, in-process (add `--config` yourself). */
  cli(args: string[]): Promise<CliRun>;
  /** `token revoke --token` through the CLI. */
  revoke(token: string): Promise<CliRun>;
  /** A kube-apiserver on the world's etcd, calling the world's verifier; stopped by close(). */
  controlPlane(
    options?: Omit<ControlPlaneOptions, 'etcd' | 'certs' | 'webhookConfigFile'>,
  ): Promise<ControlPlane>;
  close(): Promise<void>;
}

export interface KubeWorldOptions {
  /** `verifier.audiences` (default: the apiserver's own default audience). */
  audiences?: string[];
  /**
   * The store's connect and command timeouts in seconds: short (1 s each, the default here) keeps the
   * outage tests quick; `defaults` runs what an admin gets without setting them.
   */
  storeTimeouts?: 'short' | 'defaults';
}

export async function startKubeWorld(options: KubeWorldOptions = {}): Promise<KubeWorld> {
  const certs = createCertWorkspace();
  // Append-only file on, so a stopped and restarted Redis still knows its tokens, as a production one would.
  const redis = await startTestRedis({ args: ['--appendonly', 'yes'] });
  const etcd = await startEtcd();
  const verifierCA = certs.createCA('verifier');
  const serving = verifierCA.issue({ commonName: 'verifier', ipAddresses: ['127.0.0.1'] });
  const clientCA = certs.createCA('apiserver-clients');
  const apiserverClient = clientCA.issue({ commonName: 'kube-apiserver', client: true });
  const configFile = join(certs.dir, 'bridge.yaml');
  const config: ConfigFileInput = {
    store: {
      redis:
        options.storeTimeouts === 'defaults'
          ? { url: redis.url }
          : { url: redis.url, connectTimeout: 1, commandTimeout: 1 },
    },
    verifier: {
      listen: `127.0.0.1:${await freePort()}`,
      tls: {
        cert: serving.certFile,
        key: serving.keyFile,
        clientCA: clientCA.certFile,
        allowedSubjects: ['kube-apiserver'],
      },
      audiences: options.audiences ?? [CLUSTER_AUDIENCE],
    },
    mapping: WORLD_MAPPING,
  };
  writeFileSync(configFile, stringify(config));

  let services: RunningServices | undefined;
  async function startVerifier(): Promise<void> {
    services = await startServices(loadConfigFile(configFile, {}), {
      env: {},
      logger: createLogger({ level: 'silent' }),
    });
  }
  async function stopVerifier(): Promise<void> {
    await services?.close();
    services = undefined;
  }
  await startVerifier();
  const webhookKubeconfig = await writeWebhookKubeconfig({
    verifierURL: services?.verifierURL as string,
    caFile: verifierCA.certFile,
    clientCert: apiserverClient,
    out: join(certs.dir, 'webhook.kubeconfig'),
    cwd: certs.dir,
  });

  const planes: ControlPlane[] = [];
  const cli = (args: string[]) => runCliCaptured(args, { cwd: certs.dir });
  return {
    certs,
    redis,
    etcd,
    configFile,
    webhookKubeconfig,
    verifier() {
      if (!services) throw new Error('the verifier is stopped');
      return services;
    },
    stopVerifier,
    startVerifier,
    async mint(claims, audience = CLUSTER_AUDIENCE) {
      const run = await cli([
        'token',
        'mint',
        '--config',
        configFile,
        '--audience',
        audience,
        '--claims',
        JSON.stringify(claims),
      ]);
      if (run.code !== 0) throw new Error(`token mint failed (${run.code}): ${run.stderr}`);
      return run.stdout.trim();
    },
    cli,
    revoke: (token) => cli(['token', 'revoke', '--config', configFile, '--token', token]),
    async controlPlane(planeOptions = {}) {
      const plane = await startControlPlane({
        ...planeOptions,
        etcd,
        certs,
        webhookConfigFile: webhookKubeconfig,
      });
      planes.push(plane);
      return plane;
    },
    async close() {
      for (const plane of planes) await plane.stop();
      await stopVerifier();
      await etcd.close();
      await redis.close();
      certs.dispose();
    },
  };
}
