import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { systemClock } from '../../src/core/clock.js';
import { ConfigError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createMemoryStore } from '../../src/store/index.js';
import { freePort } from '../support/free-port.js';
import { startTestRedis } from '../support/redis-server.js';
import { postRaw } from '../verifier/https-post.js';

/** The composition root: what it starts, where, and how it fails. */

const running: RunningServices[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

function config(overrides: Record<string, unknown> = {}) {
  return parseConfig(
    {
      store: { memory: {} },
      verifier: { listen: '127.0.0.1:0', insecureHTTP: true, audiences: ['https://kubernetes.default.svc'] },
      ops: { listen: '127.0.0.1:0' },
      ...overrides,
    },
    { env: {}, baseDir: '.' },
  );
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    destination: {
      write: (l: string) =>
        lines.push(
          ...l
            .split('\n')
            .filter(Boolean)
            .map((x) => JSON.parse(x)),
        ),
    },
  });
  return { lines, logger };
}

const get = (url: string) => postRaw(url, '', { method: 'GET' });

describe('startServices', () => {
  it('serves /healthz, /readyz and /metrics on the ops listener (port 0 reported back)', async () => {
    const services = await startServices(config(), { env: {}, logger: createLogger({ level: 'silent' }) });
    running.push(services);
    expect(services.opsURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(services.opsURL).not.toMatch(/:0$/);
    expect((await get(`${services.opsURL}/healthz`)).status).toBe(200);
    expect((await get(`${services.opsURL}/readyz`)).body).toBe('ok\n');
    const metrics = await get(`${services.opsURL}/metrics`);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('# TYPE kob_token_reviews_total counter');
    expect(metrics.body).toContain('kob_process_');
    // The ops listener accepts no reviews.
    expect((await postRaw(`${services.opsURL}/authenticate`, '{}')).status).toBe(404);
  });

  it('the verifier listener: any other method on the review path is a 405 naming POST, unknown paths 404', async () => {
    const services = await startServices(config(), { env: {}, logger: createLogger({ level: 'silent' }) });
    running.push(services);
    for (const [method, path] of [
      ['GET', '/authenticate'],
      ['PUT', '/authenticate?timeout=30s'],
      ['GET', '/Authenticate/'],
      ['POST', '/AUTHENTICATE'],
    ]) {
      const answer = await postRaw(`${services.verifierURL}${path}`, '', { method });
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.allow).toBe('POST');
      expect(JSON.parse(answer.body)).toEqual({
        error: 'ERR_INPUT_INVALID',
        message: 'TokenReview requests are POSTed',
      });
    }
    expect((await get(`${services.verifierURL}/healthz`)).body).toBe('ok\n');
    expect((await postRaw(`${services.verifierURL}/elsewhere`, '{}')).status).toBe(404);
  });

  it('/readyz is 503 with Retry-After while Redis is down, 200 again when it is back', async () => {
    const redis = await startTestRedis();
    try {
      const services = await startServices(
        config({ store: { redis: { url: redis.url, connectTimeout: 1 } } }),
        {
          env: {},
          logger: createLogger({ level: 'silent' }),
        },
      );
      running.push(services);
      expect((await get(`${services.opsURL}/readyz`)).status).toBe(200);
      await redis.stop();
      const down = await get(`${services.opsURL}/readyz`);
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBe('1');
      await redis.start();
      const deadline = Date.now() + 15_000;
      let ready = await get(`${services.opsURL}/readyz`);
      while (ready.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await get(`${services.opsURL}/readyz`);
      }
      expect(ready.status).toBe(200);
    } finally {
      await redis.close();
    }
  });

  it('a mapping rule that does not compile stops start-up before anything listens, naming the rule', async () => {
    const port = await freePort();
    const bad = config({
      verifier: { listen: `127.0.0.1:${port}`, insecureHTTP: true, audiences: ['a'] },
      mapping: { claimMappings: { username: { expression: 'claims.email +' } } },
    });
    const failure = startServices(bad, { env: {}, logger: createLogger({ level: 'silent' }) });
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(/mapping\.claimMappings\.username\.expression/);
    // The port was never bound.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => probe.close(r));
  });

  it('a listener that cannot bind fails start-up and closes what was opened (the store too)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    const store = createMemoryStore({ clock: systemClock });
    const closeStore = vi.spyOn(store, 'close');
    try {
      const failure = startServices(config({ ops: { listen: `127.0.0.1:${port}` } }), {
        env: {},
        store,
        logger: createLogger({ level: 'silent' }),
      });
      await expect(failure).rejects.toThrow(/EADDRINUSE/);
      expect(closeStore).toHaveBeenCalled();
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('insecureHTTP: a loud warning at start and a transport marker on every review audit line', async () => {
    const { lines, logger } = capture();
    const services = await startServices(config(), { env: {}, logger });
    running.push(services);
    const warning = lines.find((l) => l.level === 'warn' && l.insecureHTTP === true);
    expect(String(warning?.msg)).toMatch(/PLAIN HTTP WITHOUT CLIENT CERTIFICATES/);
    await postRaw(
      `${services.verifierURL}/authenticate`,
      '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":""}}',
    );
    expect(lines.find((l) => l.event === 'review')).toMatchObject({
      result: 'malformed',
      transport: 'insecure-http',
    });
  });

  it('close() is idempotent and logs one "stopped"', async () => {
    const { lines, logger } = capture();
    const services = await startServices(config(), { env: {}, logger });
    await Promise.all([services.close(), services.close()]);
    await services.close();
    expect(lines.filter((l) => l.msg === 'stopped')).toHaveLength(1);
    await expect(get(`${services.opsURL}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
