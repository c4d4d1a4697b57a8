import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { systemClock } from '../../src/core/clock.js';
import { createRedisStore } from '../../src/store/index.js';
import { TokenService } from '../../src/tokens/index.js';
import { tokenReviewRequestBody } from '../support/apiserver-webhook-client.js';
import { createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { postRaw } from '../verifier/https-post.js';
import {
  CLUSTER_AUDIENCE,
  createVerifierPki,
  type VerifierPki,
  verifierConfig,
  writeConfigFile,
} from '../verifier/verifier-fixture.js';
import { buildCli, type ServeProcess, spawnServe } from './serve-process.js';

/**
 * Graceful shutdown of the real binary (docs/design.md §7): on SIGTERM `serve` stops accepting connections,
 * finishes the review in flight, drops idle keep-alive connections, closes the store and exits 0.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-shutdown-'));
let pki: VerifierPki;
let redis: TestRedis;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  buildCli();
  pki = createVerifierPki(certs);
  redis = await startTestRedis();
}, 180_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function mintToken(): Promise<string> {
  const config = parseConfig(verifierConfig({ redisUrl: redis.url, pki }), { env: {}, baseDir: dir });
  const store = createRedisStore({ config: config.store.redis!, clock: systemClock });
  try {
    const tokens = new TokenService({ store, clock: systemClock, config: config.tokens });
    const session = await tokens.createSession({
      identity: { kind: 'static', user: { username: 'dana', groups: ['ops'], extra: {} } },
      username: 'dana',
      source: 'admin',
    });
    return (await tokens.issueAccessToken(session, [CLUSTER_AUDIENCE])).token;
  } finally {
    await store.close();
  }
}

describe('serve: graceful shutdown on SIGTERM', () => {
  it('finishes the review in flight, refuses new connections, closes idle ones and exits 0', async () => {
    const token = await mintToken();
    const configFile = writeConfigFile(dir, verifierConfig({ redisUrl: redis.url, pki }));
    serve = spawnServe(configFile);
    const listening = await serve.waitForLog((l) => l.msg === 'verifier listening');
    const url = new URL('/authenticate', String(listening.url));
    const body = tokenReviewRequestBody('v1', 34, token, [CLUSTER_AUDIENCE]);
    const tls = { ca: pki.serverCA.cert, cert: pki.apiserver.cert, key: pki.apiserver.key };

    // An idle keep-alive connection, as the apiserver keeps them: must not hold shutdown up.
    const keepAlive = new Agent({ keepAlive: true, ...tls });
    const first = await postRaw(url.href, body, { ca: pki.serverCA.cert, client: pki.apiserver });
    expect(JSON.parse(first.body).status.authenticated).toBe(true);
    await new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent: keepAlive, headers: { 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

    // A review in flight: the server has parsed the headers (it answered 100 Continue), the body is not sent yet.
    let answer = '';
    const inFlight = request(url, {
      method: 'POST',
      agent: false,
      ...tls,
      headers: { 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    const finished = new Promise<number>((resolve, reject) => {
      inFlight.on('response', (res) => {
        res.on('data', (c: Buffer) => {
          answer += c.toString();
        });
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      inFlight.on('error', reject);
    });
    await new Promise<void>((resolve) => inFlight.once('continue', resolve));

    serve.child.kill('SIGTERM');
    await serve.waitForLog((l) => String(l.msg).startsWith('shutting down'));
    await expect(postRaw(url.href, body, { ca: pki.serverCA.cert, client: pki.apiserver })).rejects.toThrow(
      /ECONNREFUSED/,
    );

    inFlight.end(body);
    expect(await finished).toBe(200);
    expect(JSON.parse(answer).status).toMatchObject({ authenticated: true, user: { username: 'dana' } });

    const started = Date.now();
    expect(await serve.exited).toBe(0);
    // Well inside the drain timeout: the idle keep-alive connection was closed, not waited for.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(serve.logs.some((l) => l.msg === 'stopped')).toBe(true);
    keepAlive.destroy();
  });
});
