import { createServer } from 'node:http';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import {
  createMetrics,
  createOpsListener,
  type OpsDeps,
  opsMiddleware,
  type RunningServer,
  startServer,
} from '../../src/http/index.js';
import { createMemoryStore, type TokenStore } from '../../src/store/index.js';
import { postRaw } from '../verifier/https-post.js';

/**
 * The ops routes are served without a web framework on the verifier's and the ops listener, and inside
 * the issuer's koa app; both must answer as the koa router they used to live on did.
 */

function deps(
  store: TokenStore = createMemoryStore({ clock: systemClock }),
): OpsDeps & { logged: unknown[] } {
  const logged: unknown[] = [];
  const logger = createLogger({ destination: { write: (line: string) => logged.push(JSON.parse(line)) } });
  return { store, metrics: createMetrics({ defaultMetrics: false }), logger, logged };
}

/** A store that answers nothing, as Redis does when it is down. */
const downStore = {
  ping: () => Promise.reject(new Error('connect ECONNREFUSED')),
  countSessions: () => Promise.reject(new Error('connect ECONNREFUSED')),
} as unknown as TokenStore;

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function plain(d: OpsDeps): Promise<string> {
  const server = await startServer(createServer(createOpsListener(d)), {
    protocol: 'http',
    listen: '127.0.0.1:0',
  });
  servers.push(server);
  return server.url;
}

/** The same routes inside a koa app, behind a route of the app's own. */
async function inKoa(d: OpsDeps): Promise<string> {
  const app = new Koa();
  app.silent = true;
  app.use(opsMiddleware(d));
  app.use((ctx) => {
    if (ctx.path === '/own') ctx.body = 'own route\n';
  });
  const server = await startServer(createServer(app.callback()), { protocol: 'http', listen: '127.0.0.1:0' });
  servers.push(server);
  return server.url;
}

const ask = (url: string, method = 'GET') => postRaw(url, '', { method });

describe.each([
  { name: 'bare node:http listener', start: plain },
  { name: 'koa middleware', start: inKoa },
])('ops routes: $name', ({ start }) => {
  let url: string;
  beforeAll(async () => {
    url = await start(deps());
  });

  it('GET /healthz is 200 "ok", HEAD the same headers without a body', async () => {
    const get = await ask(`${url}/healthz`);
    expect(get).toMatchObject({ status: 200, body: 'ok\n' });
    expect(get.headers['content-type']).toBe('text/plain; charset=utf-8');
    const head = await ask(`${url}/healthz`, 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('3');
  });

  it('matches without regard to case or a trailing slash, and ignores the query', async () => {
    for (const path of ['/HEALTHZ', '/healthz/', '/healthz?probe=1']) {
      expect((await ask(`${url}${path}`)).status, path).toBe(200);
    }
    expect((await ask(`${url}/healthz//`)).status).toBe(404);
  });

  it('another method is 405 naming GET and HEAD; OPTIONS lists them', async () => {
    const post = await ask(`${url}/readyz`, 'POST');
    expect(post).toMatchObject({ status: 405, body: 'Method Not Allowed' });
    expect(post.headers.allow).toBe('HEAD, GET');
    const options = await ask(`${url}/metrics`, 'OPTIONS');
    expect(options).toMatchObject({ status: 200, body: '' });
    expect(options.headers.allow).toBe('HEAD, GET');
  });

  it('/readyz is "ok" while the store answers; /metrics is the Prometheus text with kob_ready 1', async () => {
    expect(await ask(`${url}/readyz`)).toMatchObject({ status: 200, body: 'ok\n' });
    const metrics = await ask(`${url}/metrics`);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('kob_ready 1');
    expect(metrics.body).toContain('kob_active_sessions 0');
  });

  it('/readyz is 503 with Retry-After while the store is down, counted as a ping error', async () => {
    const d = deps(downStore);
    const downURL = await start(d);
    const answer = await ask(`${downURL}/readyz`);
    expect(answer).toMatchObject({ status: 503, body: 'token store unavailable\n' });
    expect(answer.headers['retry-after']).toBe('1');
    const metrics = (await ask(`${downURL}/metrics`)).body;
    expect(metrics).toContain('kob_ready 0');
    expect(metrics).toMatch(/kob_store_errors_total\{operation="ping"\} 2/);
  });
});

describe('ops routes: what only one of the two does', () => {
  it('the bare listener answers 404 "Not Found" to any other path', async () => {
    const url = await plain(deps());
    for (const method of ['GET', 'POST']) {
      expect(await ask(`${url}/authenticate`, method)).toMatchObject({ status: 404, body: 'Not Found' });
    }
  });

  it('the koa middleware hands other paths to the next middleware', async () => {
    const url = await inKoa(deps());
    expect(await ask(`${url}/own`)).toMatchObject({ status: 200, body: 'own route\n' });
  });

  it('a scrape that fails is a 500 without internal detail, logged', async () => {
    const d = deps();
    d.metrics.registry.metrics = () => Promise.reject(new Error('secret internals'));
    const url = await plain(d);
    const answer = await ask(`${url}/metrics`);
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({ error: 'ERR_INTERNAL', message: 'internal error' });
    expect(d.logged).toContainEqual(expect.objectContaining({ msg: 'request failed', path: '/metrics' }));
  });
});
