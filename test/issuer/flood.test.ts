import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, CLI, REPO_ROOT } from '../server/serve-process.js';
import { HttpBrowser, signInThroughIdp, type TestIdp } from '../support/oidc-provider.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import {
  CORP_MAPPING,
  corpUpstream,
  freePort,
  type IssuerUnderTest,
  startIdpFor,
  startIssuerUnderTest,
  tokenOnPage,
} from './issuer-fixture.js';

/**
 * Flooding the endpoints that store something for an anonymous client (authorization requests,
 * device authorizations) is bounded: the per-address rate limits and the per-address budget of
 * pending records are checked before anything is stored, and the memory store caps what it holds.
 * Documented bound (docs/issuer.md): 10,000 + 10,000 requests from one address grow Redis by less
 * than 1 MiB and the demo process by less than 20 MB, however X-Forwarded-For is rotated.
 */

const FLOOD = Number(process.env.FLOOD ?? 10_000);
const CONCURRENCY = 32;
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** Runs `count` requests, `CONCURRENCY` at a time; returns how many got each status. */
async function flood(count: number, send: (i: number) => Promise<Response>): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const response = await send(i);
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return statuses;
}

function authorizeFlood(url: string, forwardedFor: (i: number) => string) {
  return flood(FLOOD, (i) => {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'kube-oidc-bridge',
      redirect_uri: 'http://127.0.0.1:40000/callback',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      state: `s${i}`.padEnd(400, 'x'),
    });
    return fetch(`${url}/oauth2/authorize?${query}`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': forwardedFor(i) },
    });
  });
}

function deviceFlood(url: string, forwardedFor: (i: number) => string) {
  return flood(FLOOD, (i) =>
    fetch(`${url}/oauth2/device_authorization`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'x'.repeat(4000),
        'x-forwarded-for': forwardedFor(i),
      },
      body: new URLSearchParams({ client_id: 'kube-oidc-bridge' }).toString(),
    }),
  );
}

/** The measured figure, for the record (the documented bound is what the assertions check). */
function report(what: string, bytes: number, keys?: number): void {
  process.stderr.write(
    `flood ${what}: ${(bytes / 1024).toFixed(0)} KiB${keys === undefined ? '' : `, ${keys} keys`}\n`,
  );
}

const rotating = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}`;

/** A browser whose every request to the issuer comes through the trusted proxy from `address`. */
class ForwardedBrowser extends HttpBrowser {
  constructor(
    private readonly issuerHost: string,
    private readonly address: string,
  ) {
    super();
  }

  override request(url: string, init: RequestInit = {}): Promise<Response> {
    if (new URL(url).host !== this.issuerHost) return super.request(url, init);
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', this.address);
    return super.request(url, { ...init, headers });
  }
}

async function redisFootprint(redis: Redis): Promise<{ bytes: number; keys: number }> {
  const info = await redis.info('memory');
  return {
    bytes: Number(/used_memory:(\d+)/.exec(info)?.[1]),
    keys: await redis.dbsize(),
  };
}

describe('flood of anonymous requests, Redis store', { timeout: 600_000 }, () => {
  let idp: TestIdp;
  const servers: { redis: TestRedis; admin: Redis; issuer: IssuerUnderTest }[] = [];

  async function issuerOnOwnRedis(port: number, trustProxy: boolean | string[]) {
    const redis = await startTestRedis();
    const issuer = await startIssuerUnderTest({
      port,
      redisURL: redis.url,
      upstreams: [corpUpstream(idp)],
      mapping: CORP_MAPPING,
      issuer: { trustProxy },
    });
    const entry = { redis, admin: new Redis(redis.url), issuer };
    servers.push(entry);
    return entry;
  }

  let ports: number[] = [];
  beforeAll(async () => {
    ports = [await freePort(), await freePort()];
    idp = await startIdpFor(ports);
  });
  afterAll(async () => {
    for (const { redis, admin, issuer } of servers) {
      await issuer.close();
      admin.disconnect();
      await redis.close();
    }
    await idp?.close();
  });

  it('no trusted proxy, rotating X-Forwarded-For: 10k authorize + 10k device_authorization grow Redis < 1 MiB', async () => {
    const { admin, issuer } = await issuerOnOwnRedis(ports[0] as number, false);
    const before = await redisFootprint(admin);
    const authorize = await authorizeFlood(issuer.url, rotating);
    const device = await deviceFlood(issuer.url, rotating);
    const after = await redisFootprint(admin);
    report('redis, no trusted proxy', after.bytes - before.bytes, after.keys - before.keys);

    expect(authorize.get(429)).toBeGreaterThan(FLOOD - 100);
    expect(device.get(429)).toBeGreaterThan(FLOOD - 100);
    expect(after.bytes - before.bytes).toBeLessThan(1024 * 1024);
    // At most pendingPerAddress (200) pending records from the address, plus a few counters.
    expect(after.keys - before.keys).toBeLessThan(250);
    const limited = JSON.stringify(
      await issuer.services.metrics.registry.getSingleMetric('kob_rate_limited_total')?.get(),
    );
    expect(limited).toContain('"endpoint":"authorize"');
    expect(limited).toContain('"endpoint":"device_authorization"');
  });

  it('behind a trusted proxy, rotating the client-written part: bounded, and another address still signs in during the flood', async () => {
    const { admin, issuer } = await issuerOnOwnRedis(ports[1] as number, ['127.0.0.1']);
    const before = await redisFootprint(admin);
    // What the proxy forwards: whatever the client wrote, then the address the proxy saw.
    const viaProxy = (i: number) => `${rotating(i)}, 203.0.113.7`;
    const flooding = Promise.all([authorizeFlood(issuer.url, viaProxy), deviceFlood(issuer.url, viaProxy)]);
    const browser = new ForwardedBrowser(new URL(issuer.url).host, '198.51.100.20');
    const signedIn = await signInThroughIdp(browser, `${issuer.url}/login/corp`, {
      username: 'alice',
      password: 'alice-password',
    });
    const [authorize, device] = await flooding;
    const after = await redisFootprint(admin);
    report('redis, trusted proxy', after.bytes - before.bytes, after.keys - before.keys);

    expect(signedIn.response.status).toBe(200);
    expect(tokenOnPage(signedIn.body)).toMatch(/^kob_/);
    expect(authorize.get(429)).toBeGreaterThan(FLOOD - 100);
    expect(device.get(429)).toBeGreaterThan(FLOOD - 100);
    expect(after.bytes - before.bytes).toBeLessThan(1024 * 1024);
  });
});

describe('flood of anonymous requests, the demo (memory store)', { timeout: 600_000 }, () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  function rssBytes(pid: number): number {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb) * 1024;
  }

  it('10k authorize + 10k device_authorization grow the demo process by less than 20 MB', async () => {
    buildCli();
    const [issuerPort, verifierPort, idpPort] = [await freePort(), await freePort(), await freePort()];
    const demo = spawn(
      process.execPath,
      [
        CLI,
        'demo',
        '--port',
        `${issuerPort}`,
        '--verifier-port',
        `${verifierPort}`,
        '--idp-port',
        `${idpPort}`,
        '--log-level',
        'error',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = demo;
    let out = '';
    demo.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await expect.poll(() => out, { timeout: 30_000 }).toContain('Stop with Ctrl-C');
    const url = `http://127.0.0.1:${issuerPort}`;
    const pid = demo.pid as number;
    // Warm-up (JIT, connection pools), then the baseline.
    await authorizeFlood(url, rotating).catch(() => undefined);
    const before = rssBytes(pid);
    await authorizeFlood(url, rotating);
    await deviceFlood(url, rotating);
    const after = rssBytes(pid);
    report('demo process RSS', after - before);
    expect(after - before).toBeLessThan(20 * 1024 * 1024);
  });
});
