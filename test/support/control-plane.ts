import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type CertWorkspace, createCertWorkspace, type IssuedCert } from './certs.js';
import { startEtcd, type TestEtcd } from './etcd.js';
import { freePort } from './free-port.js';
import { goToolPath } from './go-tools.js';
import { type KubectlResult, runKubectl } from './k8s-tools.js';
import { until } from './until.js';

/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver built from their Go modules
 * (tools/etcd, tools/kube-apiserver), on free loopback ports, authenticating bearer tokens through
 * our verifier with the `--authentication-token-webhook-*` flags a cluster admin sets, and
 * authorizing with RBAC. The harness's own admin is a client certificate in `system:masters`.
 */

/** The apiserver's own default `--api-audiences` (its service account issuer). */
export const CLUSTER_AUDIENCE = 'https://kubernetes.default.svc';

export type WebhookVersion = 'v1' | 'v1beta1';

export interface ControlPlaneOptions {
  /** --authentication-token-webhook-config-file: a kubeconfig our `webhook-config` command wrote. */
  webhookConfigFile?: string;
  /** --authentication-token-webhook-version (the apiserver's default is v1beta1). */
  webhookVersion?: WebhookVersion;
  /** --authentication-token-webhook-cache-ttl as a Go duration (the apiserver's default is 2m). */
  webhookCacheTTL?: string;
  /** --api-audiences (default: the service account issuer, {@link CLUSTER_AUDIENCE}). */
  apiAudiences?: string[];
  /** More kube-apiserver flags, appended last (so they win). */
  extraArgs?: string[];
  /** An etcd to store in (each control plane then uses its own key prefix); default: its own. */
  etcd?: TestEtcd;
  /** Where certificates are issued; default a private workspace removed on stop. */
  certs?: CertWorkspace;
  /** How long to wait for /readyz (default 180 s: a first start on a busy two-core machine is slow). */
  startTimeoutMs?: number;
}

export interface ControlPlane {
  /** `https://127.0.0.1:PORT`: the server of a kubeconfig. */
  url: string;
  /** PEM file of the CA that signed the apiserver's serving certificate. */
  caFile: string;
  /** A kubeconfig for the harness's admin (client certificate, group `system:masters`). */
  adminKubeconfig: string;
  /** A kubeconfig with the cluster and an empty user: pass `--token` to authenticate through the webhook. */
  tokenKubeconfig: string;
  /**
   * Runs kubectl 1.35 against this control plane: as the admin by default, or with `token` as a bearer
   * token (the request then goes through the webhook), or with a kubeconfig of the caller's.
   */
  kubectl(
    args: string[],
    options?: { token?: string; kubeconfig?: string; env?: Record<string, string>; home?: string },
  ): Promise<KubectlResult>;
  /**
   * One GET straight to the apiserver (no kubectl process): as the admin, or with a bearer token that
   * the webhook authenticates. For timing what the apiserver does; `timeoutMs` default 60 s.
   */
  get(path: string, options?: { token?: string; timeoutMs?: number }): Promise<ApiAnswer>;
  /** Writes a kubeconfig pointing at this apiserver with `user` as its user entry (`{ token }`, `{ exec }`). */
  writeKubeconfig(file: string, user?: Record<string, unknown>): void;
  /** The last part of the apiserver's log (its stderr), for failure messages and log assertions. */
  log(): string;
  /** Stops the apiserver (and etcd when it started its own) and removes their files. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let prefixes = 0;

function kubeconfigDocument(url: string, caFile: string, user: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: url, 'certificate-authority': caFile } }],
    users: [{ name: 'user', user }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'user' } }],
    'current-context': 'test',
  });
}

/** What one HTTP request to the apiserver got. */
export interface ApiAnswer {
  status: number;
  body: string;
}

/**
 * GET as the admin (client certificate) or with a bearer token; resolves with the status and body (never
 * rejects on HTTP errors).
 */
function get(
  url: string,
  caFile: string,
  as: IssuedCert | { token: string },
  path: string,
  timeoutMs = 5000,
): Promise<ApiAnswer> {
  const credentials =
    'token' in as ? { headers: { Authorization: `Bearer ${as.token}` } } : { cert: as.cert, key: as.key };
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { ca: readFileSync(caFile), ...credentials, timeout: timeoutMs, agent: false },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts etcd (unless one is given) and kube-apiserver, and resolves once `/readyz` passes (its post
 * start hooks include the RBAC bootstrap roles) and `cluster-admin` is readable. Throws, never skips,
 * when a binary is not built: the message says to run `bash tools/build.sh`.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binary = goToolPath('kube-apiserver');
  const ownEtcd = options.etcd === undefined;
  const etcd = options.etcd ?? (await startEtcd());
  const ownCerts = options.certs === undefined;
  const certs = options.certs ?? createCertWorkspace();
  const dir = mkdtempSync(join(tmpdir(), 'kob-apiserver-'));

  prefixes += 1;
  // Names unique per control plane: several may share one workspace, and start at the same time.
  const servingCA = certs.createCA(`control-plane-${prefixes}`);
  const serving = servingCA.issue({
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1'],
  });
  const clientCA = certs.createCA(`control-plane-${prefixes}-clients`);
  const admin = clientCA.issue({ commonName: 'test-admin', organizations: ['system:masters'], client: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  writeFileSync(saKey, privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));

  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const args = [
    `--etcd-servers=${etcd.url}`,
    `--etcd-prefix=/registry-${process.pid}-${prefixes}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--tls-cert-file=${serving.certFile}`,
    `--tls-private-key-file=${serving.keyFile}`,
    `--client-ca-file=${clientCA.certFile}`,
    `--service-account-issuer=${CLUSTER_AUDIENCE}`,
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--authorization-mode=RBAC',
    // A loopback address may not be published in the `kubernetes` Endpoints; there is no cluster to reach.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
    ...(options.apiAudiences ? [`--api-audiences=${options.apiAudiences.join(',')}`] : []),
    ...(options.webhookConfigFile
      ? [
          `--authentication-token-webhook-config-file=${options.webhookConfigFile}`,
          `--authentication-token-webhook-version=${options.webhookVersion ?? 'v1beta1'}`,
          ...(options.webhookCacheTTL
            ? [`--authentication-token-webhook-cache-ttl=${options.webhookCacheTTL}`]
            : []),
        ]
      : []),
    ...(options.extraArgs ?? []),
  ];
  const logFile = join(dir, 'kube-apiserver.log');
  const logFd = openSync(logFile, 'a');
  const child = spawn(binary, args, {
    stdio: ['ignore', logFd, logFd],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
  });
  closeSync(logFd);
  running.add(child);

  const log = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-6000);
    } catch {
      return '';
    }
  };

  const adminKubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(
    adminKubeconfig,
    kubeconfigDocument(url, servingCA.certFile, {
      'client-certificate': admin.certFile,
      'client-key': admin.keyFile,
    }),
    { mode: 0o600 },
  );
  const tokenKubeconfig = join(dir, 'token.kubeconfig');
  writeFileSync(tokenKubeconfig, kubeconfigDocument(url, servingCA.certFile, {}), { mode: 0o600 });

  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    if (ownEtcd) await etcd.close();
    rmSync(dir, { recursive: true, force: true });
    if (ownCerts) certs.dispose();
  }

  let lastAnswer = 'no answer yet';
  try {
    await until(
      'kube-apiserver /readyz and the RBAC bootstrap roles',
      async () => {
        if (child.exitCode !== null) return true;
        const ready = await get(url, servingCA.certFile, admin, '/readyz?verbose');
        lastAnswer = `/readyz ${ready.status}: ${ready.body
          .split('\n')
          .filter((l) => !l.includes(' ok'))
          .join(' ')}`;
        if (ready.status !== 200) return false;
        const role = '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin';
        return (await get(url, servingCA.certFile, admin, role)).status === 200;
      },
      options.startTimeoutMs ?? 180_000,
    );
    if (child.exitCode !== null) throw new Error(`kube-apiserver exited with code ${child.exitCode}`);
  } catch (err) {
    const tail = log();
    await stop();
    throw new Error(`kube-apiserver did not start: ${(err as Error).message} (${lastAnswer})\n${tail}`);
  }

  return {
    url,
    caFile: servingCA.certFile,
    adminKubeconfig,
    tokenKubeconfig,
    kubectl(kubectlArgs, { token, kubeconfig, env, home } = {}) {
      const config = kubeconfig ?? (token === undefined ? adminKubeconfig : tokenKubeconfig);
      const auth = token === undefined ? [] : ['--token', token];
      return runKubectl(['--kubeconfig', config, ...auth, ...kubectlArgs], {
        home: home ?? dir,
        env,
        timeoutMs: 90_000,
      });
    },
    get(path, { token, timeoutMs } = {}) {
      return get(url, servingCA.certFile, token === undefined ? admin : { token }, path, timeoutMs ?? 60_000);
    },
    writeKubeconfig(file, user = {}) {
      writeFileSync(file, kubeconfigDocument(url, servingCA.certFile, user), { mode: 0o600 });
    },
    log,
    stop,
  };
}
