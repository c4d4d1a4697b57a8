import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { postReview } from '../verifier/verifier-fixture.js';

/**
 * A Redis that restarts without persistence comes back empty. Before the generation marker, every
 * live token then got a plain `authenticated:false`, which the apiserver caches like a revocation,
 * and nobody was told the data was gone.
 */

const AUDIENCE = 'https://kubernetes.default.svc';
let redis: TestRedis;
let services: RunningServices;
const lines: Record<string, unknown>[] = [];

async function review(token: string) {
  const answer = await postReview(services.verifierURL, token, undefined, [AUDIENCE]);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body).status;
}

async function get(path: string) {
  const res = await fetch(`${services.opsURL}${path}`);
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  redis = await startTestRedis();
  const config = parseConfig(
    {
      store: { redis: { url: redis.url, connectTimeout: 1, commandTimeout: 1 } },
      verifier: { listen: '127.0.0.1:0', insecureHTTP: true, audiences: [AUDIENCE] },
      ops: { listen: '127.0.0.1:0' },
    },
    { env: {}, baseDir: '.' },
  );
  const logger = createLogger({
    level: 'info',
    destination: { write: (l: string) => void lines.push(JSON.parse(l)) },
  });
  services = await startServices(config, { env: {}, logger });
});

afterAll(async () => {
  await services?.close();
  await redis?.close();
});

describe('Redis restarted without persistence', () => {
  it('the loss is detected before the first review, logged once, counted, shown on /readyz; unknown tokens are denied with error', async () => {
    const session = await services.tokens.createSession({
      identity: { kind: 'static', user: { username: 'ida', groups: [], extra: {} } },
      username: 'ida',
      source: 'admin',
    });
    const { token } = await services.tokens.issueAccessToken(session, [AUDIENCE]);
    expect((await review(token)).authenticated).toBe(true);
    expect((await get('/readyz')).body).toBe('ok\n');

    await redis.stop();
    await redis.start();

    // The first review after the restart reconnects; the marker check runs before it is answered.
    const after = await review(token);
    expect(after.authenticated).toBe(false);
    expect(after.error).toContain('token store lost its data');

    const losses = lines.filter(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('TOKEN STORE LOST ITS DATA'),
    );
    expect(losses).toHaveLength(1);
    expect(losses[0]).toMatchObject({ level: 'error', storeDataLoss: { count: 1, where: 'standalone' } });
    const metrics = (await get('/metrics')).body;
    expect(metrics).toContain('kob_store_data_loss_total 1');
    expect(metrics).toMatch(/kob_token_reviews_total\{result="store_lost",version="v1"\} 1/);
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatch(
      /^ok\nwarning: token store lost its data \(generation marker gone on standalone/,
    );

    // The marker is back: later checks find it and say nothing more.
    expect(await redis.command('EXISTS', 'kob:generation:{g}')).toBe(':1\r\n');
    expect((await review(token)).error).toContain('token store lost its data');
    expect(lines.filter((l) => String(l.msg).startsWith('TOKEN STORE LOST ITS DATA'))).toHaveLength(1);

    // A new login works as usual.
    const fresh = await services.tokens.issueAccessToken(
      await services.tokens.createSession({
        identity: { kind: 'static', user: { username: 'ida', groups: [], extra: {} } },
        username: 'ida',
        source: 'admin',
      }),
      [AUDIENCE],
    );
    expect((await review(fresh.token)).authenticated).toBe(true);
  });
});
