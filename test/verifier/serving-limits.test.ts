import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';
import {
  CLUSTER_AUDIENCE,
  createVerifierPki,
  postReview,
  type VerifierPki,
  verifierConfig,
} from './verifier-fixture.js';

/**
 * Serving limits: before them a silent TLS peer lived 120 s, slow headers ~85 s, a slow body 330 s,
 * connections over the fd limit failed without a word, and a hung Redis held every review for the
 * full command timeout.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-limits-'));
let pki: VerifierPki;
let redis: TestRedis;
let mtls: RunningServices;
let plain: RunningServices;
const plainLog: Record<string, unknown>[] = [];

const LIMITS = {
  headersTimeout: 1,
  requestTimeout: 5,
  bodyTimeout: 1,
  tlsHandshakeTimeout: 1,
  storeDeadlineMs: 200,
  maxInFlight: 3,
};

function address(url: string | undefined) {
  const u = new URL(String(url));
  return { host: u.hostname, port: Number(u.port) };
}

/** Opens an mTLS connection as the apiserver would, writes `text`, and collects what comes back until close. */
function rawExchange(text: string): Promise<{ reply: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connectTls({
      ...address(mtls.verifierURL),
      ca: pki.serverCA.cert,
      cert: pki.apiserver.cert,
      key: pki.apiserver.key,
      servername: 'localhost',
    });
    let reply = '';
    socket.on('secureConnect', () => socket.write(text));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ reply, ms: Date.now() - started }));
  });
}

function review(token: string) {
  return postReview(mtls.verifierURL, token, pki);
}

async function metricsText(services: RunningServices) {
  return services.metrics.registry.metrics();
}

beforeAll(async () => {
  pki = createVerifierPki(certs);
  redis = await startTestRedis();
  const base = verifierConfig({ redisUrl: redis.url, pki });
  const mtlsConfig = parseConfig(
    {
      ...base,
      store: { redis: { url: redis.url, connectTimeout: 1, commandTimeout: 2 } },
      verifier: { ...base.verifier, limits: LIMITS },
      logging: { level: 'error' },
    },
    { env: {}, baseDir: dir },
  );
  mtls = await startServices(mtlsConfig, { env: {}, logger: createLogger({ level: 'silent' }) });
  const plainConfig = parseConfig(
    {
      store: { memory: {} },
      verifier: {
        listen: '127.0.0.1:0',
        insecureHTTP: true,
        audiences: [CLUSTER_AUDIENCE],
        limits: { maxConnections: 2 },
      },
    },
    { env: {}, baseDir: dir },
  );
  plain = await startServices(plainConfig, {
    env: {},
    logger: createLogger({
      level: 'warn',
      destination: { write: (l: string) => void plainLog.push(JSON.parse(l)) },
    }),
  });
}, 60_000);

afterAll(async () => {
  await redis?.signal('SIGCONT');
  await mtls?.close();
  await plain?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('verifier serving limits', () => {
  it('a TLS handshake that never starts is cut after tlsHandshakeTimeout', async () => {
    const started = Date.now();
    const socket = connectTcp(address(mtls.verifierURL));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.on('close', resolve));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('headers that never finish get 408 after headersTimeout', async () => {
    const { reply, ms } = await rawExchange('POST /authenticate HTTP/1.1\r\nHost: verifier\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(5_000);
  });

  it('a review body that never completes gets 408 after bodyTimeout, connection closed', async () => {
    const { reply, ms } = await rawExchange(
      'POST /authenticate HTTP/1.1\r\nHost: verifier\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"kind":',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(reply).toContain('body not received within 1000 ms');
    expect(ms).toBeLessThan(5_000);
    expect(await metricsText(mtls)).toMatch(
      /kob_token_reviews_total\{result="body_timeout",version="unknown"\} 1/,
    );
  });

  it('a hung store: a review answers 503 + Retry-After at the store deadline; beyond maxInFlight reviews are shed at once', async () => {
    const session = await mtls.tokens.createSession({
      identity: { kind: 'static', user: { username: 'jo', groups: [], extra: {} } },
      username: 'jo',
      source: 'admin',
    });
    const { token } = await mtls.tokens.issueAccessToken(session, [CLUSTER_AUDIENCE]);
    expect(JSON.parse((await review(token)).body).status.authenticated).toBe(true);

    await redis.signal('SIGSTOP');
    try {
      const started = Date.now();
      const first = await review(token);
      // commandTimeout is 2 s: the deadline (200 ms) answered long before it.
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(first.status).toBe(503);
      expect(first.headers['retry-after']).toBe('1');

      // The first lookup is still pending (until the command timeout): 2 more fit, 4 are shed.
      const burst = await Promise.all(Array.from({ length: 6 }, () => review(token)));
      expect(burst.map((r) => r.status)).toEqual(Array(6).fill(503));
      for (const r of burst) expect(r.headers['retry-after']).toBe('1');
      const text = await metricsText(mtls);
      expect(text).toMatch(/kob_token_reviews_total\{result="shed",version="v1"\} 4/);
      expect(text).toMatch(/kob_token_reviews_total\{result="unavailable",version="v1"\} 3/);
    } finally {
      await redis.signal('SIGCONT');
    }
    await until('the store to answer again', async () => (await review(token)).status === 200);
  });

  it('connections over maxConnections are refused, with one warning and a count', async () => {
    const open: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const socket = connectTcp(address(plain.verifierURL));
        open.push(socket);
        socket.write('GET /healthz HTTP/1.1\r\nHost: v\r\n\r\n');
        await new Promise((resolve) => socket.once('data', resolve));
      }
      for (let i = 0; i < 2; i++) {
        const extra = connectTcp(address(plain.verifierURL));
        extra.on('error', () => undefined);
        let answered = false;
        extra.on('data', () => {
          answered = true;
        });
        extra.write('GET /healthz HTTP/1.1\r\nHost: v\r\n\r\n');
        await new Promise((resolve) => extra.on('close', resolve));
        expect(answered).toBe(false);
      }
      expect(await metricsText(plain)).toContain('kob_connections_refused_total{role="verifier"} 2');
      const warnings = plainLog.filter((l) => String(l.msg).startsWith('connection limit reached'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 'warn', maxConnections: 2 });
    } finally {
      for (const s of open) s.destroy();
    }
  });
});
