import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';
import { postRaw } from '../verifier/https-post.js';

/**
 * The gauges the ops routes keep: `kob_ready` (readiness flapping shows as its changes) and
 * `kob_active_sessions`, against a real Redis that goes away and comes back.
 */

let redis: TestRedis;
let services: RunningServices;

beforeAll(async () => {
  redis = await startTestRedis();
  services = await startServices(
    parseConfig(
      {
        store: { redis: { url: redis.url, connectTimeout: 1 } },
        verifier: {
          listen: '127.0.0.1:0',
          insecureHTTP: true,
          audiences: ['https://kubernetes.default.svc'],
        },
        ops: { listen: '127.0.0.1:0' },
      },
      { env: {}, baseDir: '.' },
    ),
    { env: {}, logger: createLogger({ level: 'silent' }) },
  );
});

afterAll(async () => {
  await services?.close();
  await redis?.close();
});

const get = (path: string) => postRaw(`${services.opsURL}${path}`, '', { method: 'GET' });

/** The value of an unlabelled sample (or one with exactly these labels) on the /metrics page. */
async function sample(name: string, labels = ''): Promise<number | undefined> {
  const page = (await get('/metrics')).body;
  const line = page.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('kob_ready', () => {
  it('is 1 while the store answers, 0 while it does not (scrape and /readyz alike), 1 again after', async () => {
    expect(await sample('kob_ready')).toBe(1);
    await redis.stop();
    const pingErrorsBefore = (await sample('kob_store_errors_total', '{operation="ping"}')) ?? 0;
    expect((await get('/readyz')).status).toBe(503);
    expect(await sample('kob_ready')).toBe(0);
    // Both the probe and the scrape ran the check, and each failure is counted.
    expect(await sample('kob_store_errors_total', '{operation="ping"}')).toBeGreaterThanOrEqual(
      pingErrorsBefore + 2,
    );
    await redis.start();
    await until('the store answering again', async () => (await get('/readyz')).status === 200, 15_000);
    expect(await sample('kob_ready')).toBe(1);
  });
});

describe('kob_active_sessions', () => {
  it('follows sessions created and revoked, counted at each scrape', async () => {
    const before = await sample('kob_active_sessions');
    expect(before).toBe(0);
    const session = await services.tokens.createSession({
      identity: { kind: 'static', user: { username: 'erin', groups: [], extra: {} } },
      username: 'erin',
      source: 'admin',
    });
    await services.tokens.createSession({
      identity: { kind: 'static', user: { username: 'frank', groups: [], extra: {} } },
      username: 'frank',
      source: 'admin',
    });
    expect(await sample('kob_active_sessions')).toBe(2);
    await services.tokens.revokeSession(session.id);
    expect(await sample('kob_active_sessions')).toBe(1);
  });
});
