import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { renderChart } from '../deploy/rendered-chart.js';
import { createCertWorkspace } from '../support/certs.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { kubectlPath } from '../support/k8s-tools.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';
import { callProxy } from './proxy-client.js';
import {
  createProxyPki,
  PROXY_AUDIENCE,
  type ProxyPki,
  proxyConfig,
  sendRaw,
  writeUpstreamKubeconfig,
} from './proxy-fixture.js';

/**
 * The managed-cluster case end to end: a real kube-apiserver 1.35 started with no authentication
 * webhook (as on EKS, GKE, AKS, where nobody can set that flag), the proxy in front of it holding only a
 * service-account token whose ClusterRole grants `impersonate`, and kubectl 1.35 talking to the proxy
 * with a `kob_` token. RBAC is the apiserver's own, applied to the impersonated person.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-kube-'));
let pki: ProxyPki;
let redis: TestRedis;
let plane: ControlPlane;
let services: RunningServices;

const PROXY_NAMESPACE = 'kob-proxy';
/** The proxy's ServiceAccount as the chart names it for release `kob`. */
const PROXY_SA = 'kob-kube-oidc-bridge-proxy';

const alice = {
  email: 'alice@example.com',
  email_verified: true,
  sub: 'u-alice',
  groups: ['dev'],
  teams: ['blue'],
};

async function admin(args: string[]): Promise<string> {
  const result = await plane.kubectl(args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function mint(claims: Record<string, unknown> = alice): Promise<string> {
  const session = await services.tokens.createSession({
    identity: { kind: 'claims', upstream: '', claims },
    username: String(claims.email),
    source: 'admin',
  });
  return (await services.tokens.issueAccessToken(session, [PROXY_AUDIENCE])).token;
}

/** The kubeconfig a user of the proxied cluster gets: the proxy's URL and CA, a bearer token. */
function userKubeconfig(token: string): string {
  const file = join(dir, `user-${Math.random().toString(36).slice(2)}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'prod',
          cluster: { server: services.proxyURL, 'certificate-authority': pki.proxyCA.certFile },
        },
      ],
      users: [{ name: 'alice', user: { token } }],
      contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'alice' } }],
      'current-context': 'prod',
    }),
    { mode: 0o600 },
  );
  return file;
}

function asUser(token: string, args: string[]) {
  return plane.kubectl(args, { kubeconfig: userKubeconfig(token) });
}

beforeAll(async () => {
  pki = createProxyPki(certs);
  [redis, plane] = await Promise.all([
    startTestRedis({ args: ['--appendonly', 'yes'] }),
    startControlPlane(),
  ]);
  // The proxy's ServiceAccount, ClusterRole and binding exactly as the Helm chart renders them.
  const chart = await renderChart({
    home: mkdtempSync(join(dir, 'helm-')),
    namespace: PROXY_NAMESPACE,
    set: [
      'verifier.enabled=false',
      'proxy.enabled=true',
      `proxy.audiences={${PROXY_AUDIENCE}}`,
      'mapping.claimMappings.extra[0].key=example.com/team',
      'mapping.claimMappings.extra[0].valueExpression=claims.teams',
    ],
  });
  const rbac = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].map((kind) => chart.one(kind));
  const manifest = join(dir, 'rbac.yaml');
  writeFileSync(manifest, rbac.map((object) => stringify(object)).join('---\n'));
  await admin(['create', 'namespace', PROXY_NAMESPACE]);
  await admin(['apply', '-n', PROXY_NAMESPACE, '-f', manifest]);
  for (const ns of ['team-a', 'team-b']) {
    await admin(['create', 'namespace', ns]);
    // No controller-manager here to create it; pods need their namespace's default service account.
    await admin(['create', 'serviceaccount', 'default', '-n', ns]);
  }
  await admin(['create', 'role', 'pod-reader', '-n', 'team-a', '--verb=get,list,watch', '--resource=pods']);
  await admin([
    'create',
    'rolebinding',
    'dev-reads-pods',
    '-n',
    'team-a',
    '--role=pod-reader',
    '--group=oidc:dev',
  ]);
  const saToken = (await admin(['create', 'token', PROXY_SA, '-n', PROXY_NAMESPACE, '--duration=2h'])).trim();
  const kubeconfig = writeUpstreamKubeconfig(dir, {
    server: plane.url,
    ca: (await import('node:fs')).readFileSync(plane.caFile, 'utf8'),
    token: saToken,
  });
  const config = parseConfig(proxyConfig({ redisUrl: redis.url, pki, kubeconfig }), {
    env: {},
    baseDir: dir,
  });
  services = await startServices(config, { env: {}, logger: createLogger({ level: 'silent' }) });
}, 300_000);

afterAll(async () => {
  await services?.close();
  await plane?.stop();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A SubjectAccessReview for the proxy's ServiceAccount (kubectl auth can-i resolves resources through
 * discovery, and uids/userextras are not discoverable).
 */
async function proxyMay(verb: string, group: string, resource: string, subresource = ''): Promise<boolean> {
  const file = join(dir, `sar-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${PROXY_NAMESPACE}:${PROXY_SA}`,
        groups: [
          'system:serviceaccounts',
          `system:serviceaccounts:${PROXY_NAMESPACE}`,
          'system:authenticated',
        ],
        resourceAttributes: { verb, group, resource, subresource },
      },
    }),
  );
  return (await admin(['create', '-f', file, '-o', 'jsonpath={.status.allowed}'])).trim() === 'true';
}

describe('the RBAC the chart grants the proxy', () => {
  it('is enough to impersonate, and nothing broader: the proxy itself reads no pods or secrets', async () => {
    const allowed: [string, string, string, string?][] = [
      ['impersonate', '', 'users'],
      ['impersonate', '', 'groups'],
      ['impersonate', 'authentication.k8s.io', 'uids'],
      ['impersonate', 'authentication.k8s.io', 'userextras', 'example.com/team'],
    ];
    const refused: [string, string, string, string?][] = [
      ['list', '', 'pods'],
      ['get', '', 'secrets'],
      ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes'],
      ['impersonate', '', 'serviceaccounts'],
    ];
    for (const check of allowed) expect([check, await proxyMay(...check)]).toEqual([check, true]);
    for (const check of refused) expect([check, await proxyMay(...check)]).toEqual([check, false]);
  });
});

describe('kubectl 1.35 through the proxy to a real kube-apiserver', () => {
  it('auth whoami shows the mapped person, not the proxy’s service account', async () => {
    const whoami = await asUser(await mint(), ['auth', 'whoami', '-o', 'json']);
    expect(whoami.stderr).toBe('');
    expect(JSON.parse(whoami.stdout).status.userInfo).toEqual({
      username: 'alice@example.com',
      uid: 'u-alice',
      groups: ['oidc:dev', 'system:authenticated'],
      extra: { 'example.com/team': ['blue'] },
    });
  });

  it('RBAC on the mapped group allows get pods in team-a and forbids team-b', async () => {
    const token = await mint();
    const allowed = await asUser(token, ['get', 'pods', '-n', 'team-a']);
    expect(allowed.code).toBe(0);
    const forbidden = await asUser(token, ['get', 'pods', '-n', 'team-b']);
    expect(forbidden.code).not.toBe(0);
    expect(forbidden.stderr).toMatch(
      /pods is forbidden: User "alice@example.com" cannot list resource "pods" in API group "" in the namespace "team-b"/,
    );
  });

  it('get pods --watch streams an event created after it started', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const watcher = spawn(
      kubectlPath(),
      ['--kubeconfig', userKubeconfig(await mint()), 'get', 'pods', '-n', 'team-a', '--watch', '-o', 'name'],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    watcher.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      const openStreams = async () =>
        (await services.metrics.proxyOpenStreams.get()).values.find((v) => v.labels.kind === 'request')
          ?.value ?? 0;
      await until('the watch is open through the proxy', async () => (await openStreams()) >= 1, 30_000);
      expect(out).toBe('');
      await admin(['run', 'web-0', '-n', 'team-a', '--image=registry.example/web:1', '--restart=Never']);
      await until('the new pod arrives on the watch', async () => out.includes('pod/web-0'), 30_000);
    } finally {
      watcher.kill('SIGTERM');
    }
  });

  it('a revoked token is refused at once (the proxy keeps no decision cache)', async () => {
    const token = await mint();
    expect((await asUser(token, ['auth', 'whoami'])).code).toBe(0);
    await services.tokens.revokeAccessToken(token);
    const after = await asUser(token, ['auth', 'whoami']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/Unauthorized/);
  });
});

describe('escalation through the proxy: a client’s Impersonate-User never reaches the apiserver', () => {
  it('kubectl --as=system:admin is refused by the proxy (403)', async () => {
    const token = await mint();
    const result = await asUser(token, ['--as=system:admin', 'get', 'pods', '-n', 'team-b']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Forbidden.*impersonation headers are not accepted here/);
    const groups = await asUser(token, [
      '--as=alice@example.com',
      '--as-group=system:masters',
      'get',
      'secrets',
      '-A',
    ]);
    expect(groups.code).not.toBe(0);
    expect(groups.stderr).toMatch(/impersonation headers are not accepted here/);
  });

  const SELF_REVIEW = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
  function selfReview(token: string, extraLines: string): string {
    const body = '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}';
    return (
      `POST ${SELF_REVIEW} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n${extraLines}Connection: close\r\n\r\n${body}`
    );
  }
  const shapes = [
    { name: 'Impersonate-User', lines: 'Impersonate-User: system:admin\r\n' },
    { name: 'lowercase', lines: 'impersonate-user: system:admin\r\n' },
    { name: 'uppercase', lines: 'IMPERSONATE-USER: system:admin\r\n' },
    { name: 'repeated', lines: 'Impersonate-User: system:admin\r\nImpersonate-User: system:admin\r\n' },
    {
      name: 'with a group',
      lines: 'Impersonate-User: system:admin\r\nImpersonate-Group: system:masters\r\n',
    },
    { name: 'smuggled after a bare LF', lines: 'X-Note: a\nImpersonate-User: system:admin\r\n' },
    { name: 'smuggled as an obs-fold line', lines: 'X-Note: a\r\n Impersonate-User: system:admin\r\n' },
  ];
  it.each(shapes)('raw request, $name: refused, and the identity stays alice', async ({ lines }) => {
    const token = await mint();
    const refused = await sendRaw(services.proxyURL as string, pki.proxyCA.cert, selfReview(token, lines));
    expect([400, 403]).toContain(refused.status);
    expect(refused.text).not.toContain('system:admin');
    // The same request without the smuggled lines: the apiserver sees alice and only alice.
    const plain = await sendRaw(services.proxyURL as string, pki.proxyCA.cert, selfReview(token, ''));
    expect(plain.status).toBe(201);
    expect(plain.text).toContain('"username":"alice@example.com"');
  });
});

describe('token pass-through with an all-powerful upstream credential', () => {
  it('a service-account token passed through speaks for itself, never with the proxy’s client certificate', async () => {
    // The harness admin (system:masters, client certificate) as the proxy's credential: the worst case.
    const config = parseConfig(
      {
        ...proxyConfig({
          redisUrl: redis.url,
          pki,
          kubeconfig: plane.adminKubeconfig,
          tokenPassthrough: true,
        }),
      },
      { env: {}, baseDir: dir },
    );
    const passthrough = await startServices(config, { env: {}, logger: createLogger({ level: 'silent' }) });
    try {
      const saToken = (await admin(['create', 'token', 'default', '-n', 'team-a'])).trim();
      const file = join(dir, 'sa.kubeconfig');
      writeFileSync(
        file,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: 'p',
              cluster: { server: passthrough.proxyURL, 'certificate-authority': pki.proxyCA.certFile },
            },
          ],
          users: [{ name: 'sa', user: { token: saToken } }],
          contexts: [{ name: 'p', context: { cluster: 'p', user: 'sa' } }],
          'current-context': 'p',
        }),
      );
      const whoami = await plane.kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig: file });
      expect(whoami.stderr).toBe('');
      expect(JSON.parse(whoami.stdout).status.userInfo.username).toBe('system:serviceaccount:team-a:default');
    } finally {
      await passthrough.close();
    }
  });
});

describe('token store outage', () => {
  it('Redis down → 503 with Retry-After (never forwarded as anyone), then recovery', async () => {
    const token = await mint();
    await redis.stop();
    try {
      const down = await callProxy(`${services.proxyURL}/api/v1/namespaces/team-a/pods`, pki.proxyCA.cert, {
        token,
      });
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBe('1');
      expect(JSON.parse(down.body)).toMatchObject({
        kind: 'Status',
        code: 503,
        reason: 'ServiceUnavailable',
      });
    } finally {
      await redis.start();
    }
    await until(
      'the proxy serves again',
      async () =>
        (await callProxy(`${services.proxyURL}/api/v1/namespaces/team-a/pods`, pki.proxyCA.cert, { token }))
          .status === 200,
      20_000,
    );
    expect((await asUser(token, ['get', 'pods', '-n', 'team-a'])).code).toBe(0);
  });
});
