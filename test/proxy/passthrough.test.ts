import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createCertWorkspace } from '../support/certs.js';
import { freePort } from '../support/free-port.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { callProxy } from './proxy-client.js';
import { createProxyPki, type ProxyPki, proxyConfig, writeUpstreamKubeconfig } from './proxy-fixture.js';
import { headerValues, startUpstreamStandIn, type UpstreamStandIn } from './upstream-stand-in.js';

/**
 * Tokens that are not ours (an in-cluster tool's service-account token) are refused by default; with
 * `tokenPassthrough` they go upstream untouched — and never on the connection that carries the
 * proxy's own client certificate, which the apiserver would otherwise authenticate first.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-passthrough-'));
const SA_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpjaSJ9.c2ln';
let pki: ProxyPki;
let redis: TestRedis;
let upstream: UpstreamStandIn;
const running: RunningServices[] = [];

async function startProxy(options: { tokenPassthrough?: boolean; server?: string; token?: string }) {
  const kubeconfig = writeUpstreamKubeconfig(dir, {
    server: options.server ?? upstream.url,
    ca: pki.upstreamCA.cert,
    ...(options.token ? { token: options.token } : { client: pki.proxyClient }),
    name: `upstream-${running.length}.kubeconfig`,
  });
  const config = parseConfig(
    proxyConfig({ redisUrl: redis.url, pki, kubeconfig, tokenPassthrough: options.tokenPassthrough }),
    { env: {}, baseDir: dir },
  );
  const services = await startServices(config, { env: {}, logger: createLogger({ level: 'silent' }) });
  running.push(services);
  return services;
}

beforeAll(async () => {
  pki = createProxyPki(certs);
  redis = await startTestRedis();
  upstream = await startUpstreamStandIn(pki.upstreamCA, pki.upstreamCA);
});

afterAll(async () => {
  for (const services of running) await services.close();
  await upstream?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('token pass-through', () => {
  it('is off by default: a token that is not ours gets 401 and is not forwarded', async () => {
    const services = await startProxy({});
    const seenBefore = upstream.seen.length;
    const answer = await callProxy(`${services.proxyURL}/api`, pki.proxyCA.cert, { token: SA_TOKEN });
    expect(answer.status).toBe(401);
    expect(upstream.seen.length).toBe(seenBefore);
  });

  it('forwards a foreign token untouched, without impersonation and without the proxy’s client certificate', async () => {
    const services = await startProxy({ tokenPassthrough: true });
    const answer = await callProxy(`${services.proxyURL}/api`, pki.proxyCA.cert, { token: SA_TOKEN });
    expect(answer.status).toBe(200);
    const seen = upstream.seen.at(-1);
    expect(seen && headerValues(seen, 'authorization')).toEqual([`Bearer ${SA_TOKEN}`]);
    expect(seen && headerValues(seen, 'impersonate-user')).toEqual([]);
    expect(seen?.clientCN).toBeUndefined();
    const metric = await services.metrics.proxyRequests.get();
    expect(metric.values.find((v) => v.labels.result === 'passthrough')?.value).toBe(1);
  });

  it('never passes through something shaped like our own tokens', async () => {
    const services = await startProxy({ tokenPassthrough: true });
    const seenBefore = upstream.seen.length;
    const answer = await callProxy(`${services.proxyURL}/api`, pki.proxyCA.cert, { token: 'kob_forged' });
    expect(answer.status).toBe(401);
    expect(upstream.seen.length).toBe(seenBefore);
  });
});

describe('the upstream', () => {
  it('sends the proxy’s bearer token when that is its credential', async () => {
    const services = await startProxy({ token: 'proxy-sa-token' });
    const session = await services.tokens.createSession({
      identity: { kind: 'static', user: { username: 'bob', groups: ['dev'], extra: {} } },
      username: 'bob',
      source: 'admin',
    });
    const { token } = await services.tokens.issueAccessToken(session, ['https://prod.example.com']);
    const answer = await callProxy(`${services.proxyURL}/api`, pki.proxyCA.cert, { token });
    expect(answer.status).toBe(200);
    const seen = upstream.seen.at(-1);
    expect(seen && headerValues(seen, 'authorization')).toEqual(['Bearer proxy-sa-token']);
    expect(seen && headerValues(seen, 'impersonate-user')).toEqual(['bob']);
  });

  it('answers 502 with a Status when the apiserver cannot be reached, counted as an upstream error', async () => {
    const services = await startProxy({ server: `https://127.0.0.1:${await freePort()}` });
    const session = await services.tokens.createSession({
      identity: { kind: 'static', user: { username: 'bob', groups: [], extra: {} } },
      username: 'bob',
      source: 'admin',
    });
    const { token } = await services.tokens.issueAccessToken(session, ['https://prod.example.com']);
    const answer = await callProxy(`${services.proxyURL}/api`, pki.proxyCA.cert, { token });
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', code: 502 });
    const errors = await services.metrics.proxyUpstreamErrors.get();
    expect(errors.values.find((v) => v.labels.kind === 'request')?.value).toBe(1);
    const requests = await services.metrics.proxyRequests.get();
    expect(requests.values.find((v) => v.labels.result === 'upstream_error')?.value).toBe(1);
  });
});

describe('a token store that lost its data', () => {
  it('refuses tokens it no longer finds as store_lost (the verifier’s rule), never forwarding them', async () => {
    const services = await startProxy({});
    const session = await services.tokens.createSession({
      identity: { kind: 'static', user: { username: 'ida', groups: [], extra: {} } },
      username: 'ida',
      source: 'admin',
    });
    const { token } = await services.tokens.issueAccessToken(session, ['https://prod.example.com']);
    expect((await callProxy(`${services.proxyURL}/api`, pki.proxyCA.cert, { token })).status).toBe(200);
    // Restarted without persistence: it comes back empty.
    await redis.stop();
    await redis.start();
    const seenBefore = upstream.seen.length;
    const answer = await callProxy(`${services.proxyURL}/api`, pki.proxyCA.cert, { token });
    expect(answer.status).toBe(401);
    expect(upstream.seen.length).toBe(seenBefore);
    const metric = await services.metrics.proxyRequests.get();
    expect(metric.values.find((v) => v.labels.result === 'store_lost')?.value).toBe(1);
  });
});
