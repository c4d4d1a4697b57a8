import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createCertWorkspace } from '../support/certs.js';
import { kubectlPath, runKubectl } from '../support/k8s-tools.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';
import { type PodStandIn, startPodStandIn } from './pod-stand-in.js';
import {
  createProxyPki,
  PROXY_AUDIENCE,
  type ProxyPki,
  proxyConfig,
  writeUpstreamKubeconfig,
} from './proxy-fixture.js';

/**
 * kubectl 1.35 itself runs `exec` (WebSocket, v5.channel.k8s.io) and `port-forward` (SPDY/3.1 tunnelled
 * in WebSocket, and plain SPDY/3.1 as its fallback) through the proxy. The upstream is a stand-in that
 * speaks those protocols (the test world's real apiserver has no kubelet); what it sends back names the
 * `Impersonate-User` of the upstream upgrade request, so the impersonation headers are shown to get there.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-streams-'));
let pki: ProxyPki;
let redis: TestRedis;
let upstream: PodStandIn;
/** The user's kubeconfig: the proxy as its server, a `kob_` token as its credential. */
let kubeconfig: string;
let services: RunningServices;

beforeAll(async () => {
  pki = createProxyPki(certs);
  redis = await startTestRedis();
  upstream = await startPodStandIn(pki.upstreamCA);
  const upstreamKubeconfig = writeUpstreamKubeconfig(dir, {
    server: upstream.url,
    ca: pki.upstreamCA.cert,
    token: 'proxy-token',
  });
  const config = parseConfig(proxyConfig({ redisUrl: redis.url, pki, kubeconfig: upstreamKubeconfig }), {
    env: {},
    baseDir: dir,
  });
  services = await startServices(config, { env: {}, logger: createLogger({ level: 'silent' }) });
  const session = await services.tokens.createSession({
    identity: {
      kind: 'claims',
      upstream: '',
      claims: { email: 'alice@example.com', sub: 'u-1', groups: ['dev'], teams: [] },
    },
    username: 'alice@example.com',
    source: 'admin',
  });
  const { token } = await services.tokens.issueAccessToken(session, [PROXY_AUDIENCE]);
  kubeconfig = join(dir, 'user.kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'p',
          cluster: { server: services.proxyURL, 'certificate-authority': pki.proxyCA.certFile },
        },
      ],
      users: [{ name: 'alice', user: { token } }],
      contexts: [{ name: 'p', context: { cluster: 'p', user: 'alice', namespace: 'default' } }],
      'current-context': 'p',
    }),
  );
});

afterAll(async () => {
  await services?.close();
  await upstream?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl streams through the proxy', () => {
  it('runs a command over WebSocket as the impersonated person', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const result = await runKubectl(['--kubeconfig', kubeconfig, 'exec', 'web-0', '--', 'echo', 'hi'], {
      home,
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('hello from the container, run as alice@example.com\n');
    expect(result.code).toBe(0);
  });

  it.each([
    { transport: 'websocket', env: {} },
    { transport: 'spdy', env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } },
  ])('forwards a local port over $transport as the impersonated person', async ({ transport, env }) => {
    const before = upstream.portForwards.length;
    const forward = spawn(kubectlPath(), ['--kubeconfig', kubeconfig, 'port-forward', 'pod/web-0', ':80'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: mkdtempSync(join(dir, 'home-')), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let printed = '';
      forward.stdout.on('data', (chunk: Buffer) => {
        printed += chunk;
      });
      forward.stderr.on('data', (chunk: Buffer) => {
        printed += chunk;
      });
      await until(
        'kubectl to listen',
        async () => /Forwarding from 127\.0\.0\.1:(\d+)/.test(printed),
        30_000,
      );
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(printed)?.[1]);
      const socket = connect(port, '127.0.0.1');
      let echoed = '';
      socket.on('data', (chunk: Buffer) => {
        echoed += chunk;
      });
      socket.write('GET / HTTP/1.0\r\n\r\n');
      await until('the echo', async () => echoed.length > 0, 15_000);
      socket.destroy();
      expect(echoed).toBe('alice@example.com <- GET / HTTP/1.0\r\n\r\n');
      expect(upstream.portForwards.slice(before)).toEqual([transport]);
    } finally {
      forward.kill('SIGTERM');
      if (forward.exitCode === null) await once(forward, 'exit');
    }
  });
});
