import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCA, issueCert } from '../lib/pki.js';
import { freePort } from '../lib/redis-process.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Where tools/build.sh keeps a Go-built peer; throws saying how to build it when it is absent. */
function toolPath(name) {
  const path = execFileSync('bash', [join(repoRoot, 'tools', 'build.sh'), '--path', name])
    .toString()
    .trim();
  try {
    readFileSync(path);
  } catch {
    throw new Error(`${name} is not built: run bash tools/build.sh ${name}`);
  }
  return path;
}

async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One HTTPS request; resolves with its status and body text. `body` is sent as JSON. */
export function httpsCall(url, options, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, options);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** One HTTPS call as the admin (client certificate); resolves with status and body. */
export function adminCall(plane, method, path, body) {
  return httpsCall(
    `${plane.url}${path}`,
    {
      method,
      ca: plane.ca,
      cert: plane.admin.cert,
      key: plane.admin.key,
      headers: body ? { 'content-type': 'application/json' } : {},
    },
    body,
  );
}

/**
 * etcd and the real kube-apiserver (tools/etcd, tools/kube-apiserver) on loopback, RBAC on, no token
 * webhook (a managed cluster's shape), with an admin client certificate in system:masters: the same
 * control plane the proxy tests run against, started from plain JS for the benchmark.
 */
export async function startControlPlane(dir) {
  createCA(dir, '/CN=bench cluster CA');
  issueCert(dir, 'apiserver', '/CN=kube-apiserver', [
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  issueCert(dir, 'admin', '/O=system:masters/CN=bench-admin', ['extendedKeyUsage=clientAuth']);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'sec1', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

  const etcdClient = `http://127.0.0.1:${await freePort()}`;
  const etcdPeer = `http://127.0.0.1:${await freePort()}`;
  const etcd = spawn(
    toolPath('etcd'),
    [
      '--name=bench',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdClient}`,
      `--advertise-client-urls=${etcdClient}`,
      `--listen-peer-urls=${etcdPeer}`,
      `--initial-advertise-peer-urls=${etcdPeer}`,
      `--initial-cluster=bench=${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=error',
    ],
    { stdio: 'ignore' },
  );
  await until('etcd', async () => (await fetch(`${etcdClient}/health`)).ok, 60_000);

  const port = await freePort();
  const apiserver = spawn(
    toolPath('kube-apiserver'),
    [
      `--etcd-servers=${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=RBAC',
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ],
    { stdio: 'ignore', env: { PATH: process.env.PATH, HOME: dir } },
  );
  const pem = (name) => readFileSync(join(dir, name), 'utf8');
  const plane = {
    url: `https://127.0.0.1:${port}`,
    caFile: join(dir, 'ca.crt'),
    ca: pem('ca.crt'),
    admin: { cert: pem('admin.crt'), key: pem('admin.key') },
    pids: () => [apiserver.pid, etcd.pid],
    async stop() {
      for (const child of [apiserver, etcd]) {
        if (child.exitCode !== null) continue;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
  await until(
    'kube-apiserver /readyz and the RBAC bootstrap roles',
    async () =>
      (await adminCall(plane, 'GET', '/readyz')).status === 200 &&
      (await adminCall(plane, 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/view')).status === 200,
    180_000,
  );
  return plane;
}
