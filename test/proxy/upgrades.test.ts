import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';
import {
  createProxyPki,
  PROXY_AUDIENCE,
  type ProxyPki,
  proxyConfig,
  writeUpstreamKubeconfig,
} from './proxy-fixture.js';
import { headerValues, startUpstreamStandIn, type UpstreamStandIn } from './upstream-stand-in.js';

/**
 * exec, attach and port-forward are protocol upgrades. The real kube-apiserver of the test world has no
 * kubelet behind it, so these run against the upstream stand-in, which answers the SPDY/3.1 and
 * WebSocket handshakes as the apiserver would and then echoes bytes: what is checked is the proxy's
 * part — authentication of the upgrade request, impersonation headers on the upstream upgrade request,
 * the 101 handshake relayed, bytes both ways, and teardown.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-upgrades-'));
let pki: ProxyPki;
let redis: TestRedis;
let upstream: UpstreamStandIn;
let services: RunningServices;
let token: string;

interface Upgraded {
  socket: TLSSocket;
  text(): string;
  waitFor(fragment: string): Promise<void>;
}

function openUpgrade(request: string): Promise<Upgraded> {
  const { hostname, port } = new URL(services.proxyURL as string);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: hostname,
      port: Number(port),
      ca: pki.proxyCA.cert,
      servername: 'localhost',
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('secureConnect', () => {
      socket.write(request);
      resolve({
        socket,
        text: () => text,
        waitFor: (fragment) => until(`"${fragment}" from the proxy`, async () => text.includes(fragment)),
      });
    });
  });
}

const EXEC = '/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true&stdout=true&tty=true';
const PORT_FORWARD = '/api/v1/namespaces/default/pods/web-0/portforward';

function websocketRequest(path: string, protocols: string, extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
    `Sec-WebSocket-Protocol: ${protocols}\r\n${extra}\r\n`
  );
}

function spdyRequest(path: string, protocol: string, extra = ''): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\n` +
    `Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\nContent-Length: 0\r\n${extra}\r\n`
  );
}

beforeAll(async () => {
  pki = createProxyPki(certs);
  redis = await startTestRedis();
  upstream = await startUpstreamStandIn(pki.upstreamCA, pki.upstreamCA);
  const kubeconfig = writeUpstreamKubeconfig(dir, {
    server: upstream.url,
    ca: pki.upstreamCA.cert,
    client: pki.proxyClient,
  });
  const config = parseConfig(proxyConfig({ redisUrl: redis.url, pki, kubeconfig }), {
    env: {},
    baseDir: dir,
  });
  services = await startServices(config, {
    env: {},
    logger: createLogger({ level: 'silent' }),
  });
  const session = await services.tokens.createSession({
    identity: {
      kind: 'claims',
      upstream: '',
      claims: { email: 'alice@example.com', sub: 'u-1', groups: ['dev'], teams: [] },
    },
    username: 'alice@example.com',
    source: 'admin',
  });
  token = (await services.tokens.issueAccessToken(session, [PROXY_AUDIENCE])).token;
});

afterAll(async () => {
  await services?.close();
  await upstream?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function openGauge(): Promise<number | undefined> {
  return (await services.metrics.proxyOpenStreams.get()).values.find((v) => v.labels.kind === 'upgrade')
    ?.value;
}

describe('protocol upgrades', () => {
  const cases = [
    {
      name: 'exec over WebSocket (v5.channel.k8s.io, kubectl ≥ 1.31)',
      request: () => websocketRequest(EXEC, 'v5.channel.k8s.io, v4.channel.k8s.io'),
      answer: 'Sec-WebSocket-Protocol: v5.channel.k8s.io',
    },
    {
      name: 'exec over SPDY/3.1 (older kubectl, fallback)',
      request: () => spdyRequest(EXEC, 'v4.channel.k8s.io'),
      answer: 'X-Stream-Protocol-Version: v4.channel.k8s.io',
    },
    {
      name: 'port-forward tunnelled over WebSocket',
      request: () => websocketRequest(PORT_FORWARD, 'SPDY/3.1+portforward.k8s.io'),
      answer: 'Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io',
    },
    {
      name: 'port-forward over SPDY/3.1',
      request: () => spdyRequest(PORT_FORWARD, 'portforward.k8s.io'),
      answer: 'X-Stream-Protocol-Version: portforward.k8s.io',
    },
  ];
  it.each(cases)('relays $name with the impersonation headers upstream', async ({ request, answer }) => {
    const seenBefore = upstream.seen.length;
    const conn = await openUpgrade(request());
    await conn.waitFor('echo:');
    expect(conn.text()).toMatch(/^HTTP\/1\.1 101 /);
    expect(conn.text()).toContain(answer);
    const seen = upstream.seen[seenBefore];
    expect(seen?.upgrade).toBe(true);
    expect(seen && headerValues(seen, 'impersonate-user')).toEqual(['alice@example.com']);
    expect(seen && headerValues(seen, 'impersonate-group')).toEqual(['oidc:dev']);
    expect(seen && headerValues(seen, 'authorization')).toEqual([]);
    expect(seen?.clientCN).toBe('kob-proxy');
    // Bytes both ways after the 101, unbuffered.
    conn.socket.write('\u0000stdin-bytes');
    await conn.waitFor('echo:\u0000stdin-bytes');
    expect(await openGauge()).toBe(1);
    conn.socket.destroy();
    await until('the upgraded connection is closed', async () => (await openGauge()) === 0);
  });

  it('refuses an upgrade without a token with a 401 Status, nothing forwarded', async () => {
    const seenBefore = upstream.seen.length;
    const request = websocketRequest(EXEC, 'v5.channel.k8s.io').replace(/Authorization: [^\r]*\r\n/, '');
    const conn = await openUpgrade(request);
    await conn.waitFor('"code":401');
    expect(conn.text()).toMatch(/^HTTP\/1\.1 401 /);
    expect(upstream.seen.length).toBe(seenBefore);
    conn.socket.destroy();
  });

  it('refuses an upgrade carrying Impersonate-User with a 403 Status, nothing forwarded', async () => {
    const seenBefore = upstream.seen.length;
    const conn = await openUpgrade(
      websocketRequest(EXEC, 'v5.channel.k8s.io', 'impersonate-user: system:admin\r\n'),
    );
    await conn.waitFor('"code":403');
    expect(conn.text()).toMatch(/^HTTP\/1\.1 403 /);
    expect(upstream.seen.length).toBe(seenBefore);
    conn.socket.destroy();
  });

  it('relays the upstream’s refusal of an upgrade it does not speak', async () => {
    const request = websocketRequest(EXEC, 'v5.channel.k8s.io').replace('Upgrade: websocket', 'Upgrade: h2c');
    const conn = await openUpgrade(request.replace(/Sec-WebSocket-[^\r]*\r\n/g, ''));
    await until('an answer', async () => conn.text().includes('\r\n\r\n'));
    expect(conn.text()).toMatch(/^HTTP\/1\.1 400 /);
    conn.socket.destroy();
  });

  it('cuts open upgraded connections when the proxy shuts down', async () => {
    const conn = await openUpgrade(websocketRequest(EXEC, 'v5.channel.k8s.io'));
    await conn.waitFor('echo:');
    const closed = new Promise((resolve) => conn.socket.on('close', resolve));
    await services.close();
    await closed;
    expect(await openGauge()).toBe(0);
  });
});
