import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createCertWorkspace } from '../support/certs.js';
import { runKubectl } from '../support/k8s-tools.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { type ExecStandIn, startExecStandIn } from './exec-stand-in.js';
import {
  createProxyPki,
  PROXY_AUDIENCE,
  type ProxyPki,
  proxyConfig,
  writeUpstreamKubeconfig,
} from './proxy-fixture.js';

/**
 * kubectl 1.35 itself runs `exec` through the proxy, over WebSocket (v5.channel.k8s.io). The upstream
 * is a stand-in that speaks the exec protocol (the test world's real apiserver has no kubelet); what
 * it prints back shows the impersonation headers reached the upstream upgrade request.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-exec-'));
let pki: ProxyPki;
let redis: TestRedis;
let upstream: ExecStandIn;
let services: RunningServices;

beforeAll(async () => {
  pki = createProxyPki(certs);
  redis = await startTestRedis();
  upstream = await startExecStandIn(pki.upstreamCA);
  const kubeconfig = writeUpstreamKubeconfig(dir, {
    server: upstream.url,
    ca: pki.upstreamCA.cert,
    token: 'proxy-token',
  });
  const config = parseConfig(proxyConfig({ redisUrl: redis.url, pki, kubeconfig }), {
    env: {},
    baseDir: dir,
  });
  services = await startServices(config, { env: {}, logger: createLogger({ level: 'silent' }) });
});

afterAll(async () => {
  await services?.close();
  await upstream?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl exec through the proxy', () => {
  it('runs a command over WebSocket as the impersonated person', async () => {
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
    const file = join(dir, 'user.kubeconfig');
    writeFileSync(
      file,
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
    const home = mkdtempSync(join(dir, 'home-'));
    const result = await runKubectl(['--kubeconfig', file, 'exec', 'web-0', '--', 'echo', 'hi'], {
      home,
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('hello from the container, run as alice@example.com\n');
    expect(result.code).toBe(0);
  });
});
