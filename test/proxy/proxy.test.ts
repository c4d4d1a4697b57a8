import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createCertWorkspace } from '../support/certs.js';
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
import {
  headerValues,
  type SeenRequest,
  startUpstreamStandIn,
  type UpstreamStandIn,
} from './upstream-stand-in.js';

/**
 * The proxy in front of an upstream that records what reaches it: identity through impersonation
 * headers, refusals as the apiserver would give them, escalation attempts that must never arrive,
 * streams, and the store outage. Upgrades and the real apiserver have their own files.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-'));
const clock = new ManualClock(Math.floor(Date.now() / 1000));
const logLines: string[] = [];
let pki: ProxyPki;
let redis: TestRedis;
let upstream: UpstreamStandIn;
let services: RunningServices;

const alice = {
  email: 'alice@example.com',
  email_verified: true,
  sub: 'u-1',
  groups: ['dev', 'cluster-viewers'],
  teams: ['blue', 'green'],
};

async function mint(claims: Record<string, unknown>, audiences = [PROXY_AUDIENCE], ttl?: number) {
  const session = await services.tokens.createSession({
    identity: { kind: 'claims', upstream: '', claims },
    username: String(claims.email),
    source: 'admin',
  });
  return (await services.tokens.issueAccessToken(session, audiences, ttl ? { ttl } : undefined)).token;
}

async function proxyCount(result: string): Promise<number> {
  const metric = await services.metrics.proxyRequests.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

function get(path: string, options: Parameters<typeof callProxy>[2] = {}) {
  return callProxy(`${services.proxyURL}${path}`, pki.proxyCA.cert, options);
}

function lastSeen(): SeenRequest {
  const request = upstream.seen.at(-1);
  if (!request) throw new Error('the upstream saw nothing');
  return request;
}

beforeAll(async () => {
  pki = createProxyPki(certs);
  redis = await startTestRedis({ args: ['--appendonly', 'yes'] });
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
    clock,
    logger: createLogger({ level: 'info', destination: { write: (line: string) => logLines.push(line) } }),
  });
});

afterAll(async () => {
  await services?.close();
  await upstream?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('forwarding as the signed-in person', () => {
  it('turns a kob_ token into impersonation headers on the proxy’s own credential', async () => {
    const token = await mint(alice);
    const answer = await get('/api/v1/namespaces/default/pods?limit=5', { token });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ path: '/api/v1/namespaces/default/pods?limit=5' });
    const seen = lastSeen();
    expect(headerValues(seen, 'impersonate-user')).toEqual(['alice@example.com']);
    expect(headerValues(seen, 'impersonate-uid')).toEqual(['u-1']);
    expect(headerValues(seen, 'impersonate-group')).toEqual(['oidc:dev', 'oidc:cluster-viewers', 'viewers']);
    // The extra key's '/' cannot be in a header name: percent-encoded, as the apiserver unescapes it.
    expect(headerValues(seen, 'impersonate-extra-example.com%2Fteam')).toEqual(['blue', 'green']);
    expect(headerValues(seen, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    // The proxy's credential is its client certificate here: the person's token never goes upstream.
    expect(seen.clientCN).toBe('kob-proxy');
    expect(headerValues(seen, 'authorization')).toEqual([]);
    expect(seen.rawHeaders.join('\n')).not.toContain(token);
  });

  it('relays request bodies and drops hop-by-hop response headers (RFC 9110 §7.6.1)', async () => {
    const token = await mint(alice);
    const body = JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'x' } });
    const answer = await get('/api/v1/namespaces/default/configmaps', {
      token,
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'keep-alive': 'timeout=5',
        'x-client-private': 'a',
        connection: 'x-client-private',
      },
    });
    expect(answer.status).toBe(200);
    const seen = lastSeen();
    expect(seen.body).toBe(body);
    expect(headerValues(seen, 'keep-alive')).toEqual([]);
    expect(headerValues(seen, 'x-client-private')).toEqual([]);
    expect(answer.headers['x-upstream']).toBe('stand-in');
    expect(answer.headers['x-upstream-private']).toBeUndefined();
  });

  it('writes one audit line per request, with who and what but never the token', async () => {
    const token = await mint(alice);
    const before = logLines.length;
    await get('/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1', { token });
    const lines = logLines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    const audits = lines.filter((l) => l.event === 'proxy');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      audit: true,
      result: 'forwarded',
      username: 'alice@example.com',
      method: 'GET',
      verb: 'watch',
      path: '/api/v1/namespaces/default/pods',
      status: 200,
      client: '127.0.0.1',
    });
    expect(typeof audits[0]?.latencyMs).toBe('number');
    expect(logLines.slice(before).join('\n')).not.toContain(token);
  });
});

describe('refusals are Status objects, as the apiserver gives them', () => {
  const cases: { name: string; authorization: () => Promise<string | undefined>; result: string }[] = [
    { name: 'no Authorization header', authorization: async () => undefined, result: 'missing' },
    { name: 'Basic credentials', authorization: async () => 'Basic YWxpY2U6cHc=', result: 'missing' },
    {
      name: 'a token never issued',
      authorization: async () => 'Bearer kob_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0000000',
      result: 'malformed',
    },
    {
      name: 'not shaped like our tokens',
      authorization: async () => 'Bearer not-a-kob-token',
      result: 'malformed',
    },
    {
      name: 'a token minted for another cluster',
      authorization: async () => `Bearer ${await mint(alice, ['https://other.example.com'])}`,
      result: 'audience',
    },
    {
      name: 'a revoked token',
      authorization: async () => {
        const token = await mint(alice);
        await services.tokens.revokeAccessToken(token);
        return `Bearer ${token}`;
      },
      result: 'unknown',
    },
    {
      name: 'an identity the system: guard refuses',
      authorization: async () => `Bearer ${await mint({ ...alice, email: 'system:admin' })}`,
      result: 'rule',
    },
  ];
  it.each(cases)('401 for $name (result $result), nothing forwarded', async ({ authorization, result }) => {
    const header = await authorization();
    const seenBefore = upstream.seen.length;
    const countBefore = await proxyCount(result);
    const answer = await get('/api/v1/namespaces/default/pods', {
      headers: header === undefined ? {} : { authorization: header },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(await proxyCount(result)).toBe(countBefore + 1);
    expect(upstream.seen.length).toBe(seenBefore);
  });

  it('401 for an expired token (result expired: the token service, not the store, owns expiry)', async () => {
    const token = await mint(alice, [PROXY_AUDIENCE], 60);
    expect((await get('/version', { token })).status).toBe(200);
    clock.advance(61);
    const before = await proxyCount('expired');
    const answer = await get('/version', { token });
    expect(answer.status).toBe(401);
    expect(await proxyCount('expired')).toBe(before + 1);
  });
});

/** An authenticated request with extra raw header lines, as bytes on the wire. */
function rawGet(token: string, extraLines: string, path = '/api/v1/namespaces/default/pods'): string {
  return `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n${extraLines}Connection: close\r\n\r\n`;
}

/** True when any request the upstream saw carries a client-chosen impersonation value. */
function escalationReachedUpstream(): boolean {
  return upstream.seen.some((r) =>
    r.rawHeaders.some((h, i) => i % 2 === 1 && /system:admin|system:masters|evil/.test(h)),
  );
}

describe('escalation: client impersonation headers never reach the apiserver', () => {
  const refused: { name: string; lines: string; result: 'impersonation' | 'bad_request' }[] = [
    { name: 'Impersonate-User', lines: 'Impersonate-User: system:admin\r\n', result: 'impersonation' },
    {
      name: 'lowercase impersonate-user',
      lines: 'impersonate-user: system:admin\r\n',
      result: 'impersonation',
    },
    {
      name: 'UPPERCASE IMPERSONATE-USER',
      lines: 'IMPERSONATE-USER: system:admin\r\n',
      result: 'impersonation',
    },
    {
      name: 'mixed-case iMpErSoNaTe-GrOuP',
      lines: 'iMpErSoNaTe-GrOuP: system:masters\r\n',
      result: 'impersonation',
    },
    {
      name: 'repeated Impersonate-Group lines',
      lines: 'Impersonate-Group: system:masters\r\nImpersonate-Group: system:masters\r\n',
      result: 'impersonation',
    },
    { name: 'Impersonate-Uid', lines: 'Impersonate-Uid: evil\r\n', result: 'impersonation' },
    {
      name: 'Impersonate-Extra-scopes',
      lines: 'Impersonate-Extra-Scopes: system:admin\r\n',
      result: 'impersonation',
    },
    {
      name: 'underscore Impersonate_User',
      lines: 'Impersonate_User: system:admin\r\n',
      result: 'impersonation',
    },
    {
      name: 'smuggled after a bare LF in another header line',
      lines: 'X-Note: hi\nImpersonate-User: system:admin\r\n',
      result: 'bad_request',
    },
    {
      name: 'smuggled as an obs-fold continuation line',
      lines: 'X-Note: hi\r\n Impersonate-User: system:admin\r\n',
      result: 'bad_request',
    },
    {
      name: 'a space before the colon',
      lines: 'Impersonate-User : system:admin\r\n',
      result: 'bad_request',
    },
  ];
  it.each(refused)('refuses $name ($result), the apiserver sees nothing', async ({ lines, result }) => {
    const token = await mint(alice);
    const seenBefore = upstream.seen.length;
    const countBefore = await proxyCount(result);
    const answer = await sendRaw(services.proxyURL as string, pki.proxyCA.cert, rawGet(token, lines));
    expect(answer.status).toBe(result === 'impersonation' ? 403 : 400);
    expect(answer.text).toContain('"kind":"Status"');
    expect(await proxyCount(result)).toBe(countBefore + 1);
    expect(upstream.seen.length).toBe(seenBefore);
    expect(escalationReachedUpstream()).toBe(false);
  });

  it('refuses impersonation headers even without a token (403 before authentication)', async () => {
    const answer = await get('/api/v1/pods', { headers: { 'Impersonate-User': 'system:admin' } });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
  });

  it('does not forward an Impersonate-User sent as a chunked-body trailer', async () => {
    const token = await mint(alice);
    const bytes =
      `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
      'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\nImpersonate-User: system:admin\r\n\r\n';
    const answer = await sendRaw(services.proxyURL as string, pki.proxyCA.cert, bytes);
    expect(answer.status).toBe(200);
    expect(headerValues(lastSeen(), 'impersonate-user')).toEqual(['alice@example.com']);
    expect(escalationReachedUpstream()).toBe(false);
  });

  it('does not forward X-Remote-User (request-header authentication) from a client', async () => {
    const token = await mint(alice);
    const answer = await get('/version', {
      token,
      headers: { 'X-Remote-User': 'evil', 'X-Remote-Group': 'evil' },
    });
    expect(answer.status).toBe(200);
    expect(escalationReachedUpstream()).toBe(false);
  });

  const smuggling: { name: string; bytes: (token: string) => string }[] = [
    {
      name: 'duplicate Content-Length',
      bytes: (t) =>
        `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}`,
    },
    {
      name: 'Content-Length with Transfer-Encoding',
      bytes: (t) =>
        `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/secrets HTTP/1.1\r\nImpersonate-User: system:admin\r\n\r\n`,
    },
  ];
  it.each(smuggling)('refuses request smuggling: $name (400, nothing forwarded)', async ({ bytes }) => {
    const token = await mint(alice);
    const seenBefore = upstream.seen.length;
    const answer = await sendRaw(services.proxyURL as string, pki.proxyCA.cert, bytes(token));
    expect(answer.status).toBe(400);
    expect(upstream.seen.length).toBe(seenBefore);
    expect(escalationReachedUpstream()).toBe(false);
  });
});

describe('streams', () => {
  it('relays a chunked response as it is produced (watch, logs -f), without buffering', async () => {
    const token = await mint(alice);
    const { request } = await import('node:https');
    const received: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const req = request(
        `${services.proxyURL}/stream`,
        { ca: pki.proxyCA.cert, agent: false, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => received.push(chunk));
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
    await until('the stream is open upstream', async () => lastSeen().url === '/stream');
    upstream.releaseChunk('{"type":"ADDED"}\n');
    await until(
      'the first event arrives before the stream ends',
      async () => received.join('') === '{"type":"ADDED"}\n',
    );
    upstream.releaseChunk('{"type":"MODIFIED"}\n');
    await until('the second event arrives', async () => received.length >= 2);
    upstream.releaseChunk('');
    await ended;
    expect(received.join('')).toBe('{"type":"ADDED"}\n{"type":"MODIFIED"}\n');
  });

  it('closes the upstream stream when the client goes away, and the open-streams gauge returns to zero', async () => {
    const token = await mint(alice);
    const closedBefore = upstream.streamsClosed();
    const { request } = await import('node:https');
    const req = request(`${services.proxyURL}/stream`, {
      ca: pki.proxyCA.cert,
      agent: false,
      headers: { authorization: `Bearer ${token}` },
    });
    req.on('error', () => {});
    const response = new Promise((resolve) => req.on('response', resolve));
    req.end();
    await response;
    const open = async () =>
      (await services.metrics.proxyOpenStreams.get()).values.find((v) => v.labels.kind === 'request')?.value;
    expect(await open()).toBe(1);
    req.destroy();
    await until('the upstream stream is closed', async () => upstream.streamsClosed() === closedBefore + 1);
    await until('the gauge is back to zero', async () => (await open()) === 0);
  });
});

describe('certificate expiry', () => {
  it('exports the serving certificate’s notAfter (role proxy, certificate serving)', async () => {
    const text = await services.metrics.registry.metrics();
    expect(text).toMatch(
      /kob_certificate_expiry_timestamp_seconds\{role="proxy",certificate="serving"\} \d{10}/,
    );
    expect(text).toMatch(
      /kob_certificate_expiry_timestamp_seconds\{role="proxy",certificate="upstream_ca"\} \d{10}/,
    );
  });
});

describe('token store outage', () => {
  it('answers 503 with Retry-After while Redis is down — never a pass-through — and recovers', async () => {
    const token = await mint(alice);
    const seenBefore = upstream.seen.length;
    await redis.stop();
    try {
      const answer = await get('/api/v1/namespaces/default/pods', { token });
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(JSON.parse(answer.body)).toMatchObject({
        kind: 'Status',
        reason: 'ServiceUnavailable',
        code: 503,
        details: { retryAfterSeconds: 1 },
      });
      expect(upstream.seen.length).toBe(seenBefore);
    } finally {
      await redis.start();
    }
    await until(
      'the proxy serves again',
      async () => (await get('/version', { token })).status === 200,
      15_000,
    );
    expect(headerValues(lastSeen(), 'impersonate-user')).toEqual(['alice@example.com']);
  });
});
