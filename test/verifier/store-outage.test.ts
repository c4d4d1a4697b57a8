import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { createMetrics, type RunningServer } from '../../src/http/index.js';
import { compileMappingSet } from '../../src/mapping/index.js';
import type { TokenStore } from '../../src/store/index.js';
import { startVerifier } from '../../src/verifier/index.js';
import { StoreOutageCircuit } from '../../src/verifier/store-outage-circuit.js';
import { tokenReviewRequestBody } from '../support/apiserver-webhook-client.js';
import { type HttpAnswer, postRaw } from './https-post.js';

/**
 * A store outage under the apiserver: 503 + Retry-After while it is short (the apiserver retries, a
 * failover goes unnoticed), 503 without Retry-After once it has lasted longer than
 * `verifier.storeOutageRetryWindow` (the apiserver answers 401 at once instead of after 30 s), and
 * Retry-After again from the first store read that answers. Never `authenticated: true`, never a
 * (cacheable) 200 denial while the store fails.
 */

describe('StoreOutageCircuit', () => {
  it('retryable until the store has failed for longer than the window; the first success closes it', () => {
    const clock = new ManualClock();
    const changes: [boolean, number][] = [];
    const circuit = new StoreOutageCircuit(10, clock, (open, failingFor) => changes.push([open, failingFor]));
    expect(circuit.retryable()).toBe(true);

    circuit.failed();
    clock.advance(10);
    circuit.failed(); // a later failure does not restart the outage
    expect(circuit.retryable()).toBe(true);
    clock.advance(1);
    expect(circuit.retryable()).toBe(false);
    expect(circuit.retryable()).toBe(false);
    expect(changes).toEqual([[true, 11]]);

    circuit.succeeded();
    expect(circuit.retryable()).toBe(true);
    expect(changes).toEqual([
      [true, 11],
      [false, 11],
    ]);

    // A new outage is timed from its own first failure.
    clock.advance(100);
    circuit.failed();
    clock.advance(10);
    expect(circuit.retryable()).toBe(true);
  });

  it('a success inside the window ends the outage without ever opening', () => {
    const clock = new ManualClock();
    const changes: boolean[] = [];
    const circuit = new StoreOutageCircuit(10, clock, (open) => changes.push(open));
    circuit.failed();
    clock.advance(5);
    circuit.succeeded();
    clock.advance(10);
    circuit.failed();
    expect(circuit.retryable()).toBe(true);
    expect(changes).toEqual([]);
  });
});

describe('the verifier during a store outage', () => {
  const clock = new ManualClock();
  /** What the next store read does. */
  let store: 'down' | 'hung' | 'up' = 'up';
  /** Lookups held by a hung store, answered when the test ends. */
  const hung: (() => void)[] = [];
  let verifier: RunningServer;
  const metrics = createMetrics({ defaultMetrics: false });
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const config = parseConfig(
      {
        store: { memory: {} },
        verifier: {
          insecureHTTP: true,
          audiences: ['api'],
          storeOutageRetryWindow: '10s',
          limits: { storeDeadlineMs: 200, maxInFlight: 1 },
        },
        mapping: { claimMappings: { username: { claim: 'email', prefix: '' } } },
      },
      { env: {}, baseDir: '.' },
    );
    if (!config.verifier) throw new Error('no verifier config');
    verifier = await startVerifier({
      config: config.verifier,
      lookupAccessToken: async () => {
        if (store === 'down') throw new StoreUnavailableError('connection refused');
        if (store === 'hung') await new Promise<void>((resolve) => hung.push(resolve));
        return { status: 'unknown' };
      },
      mapping: await compileMappingSet(config),
      store: {} as TokenStore, // only /readyz reads it
      metrics,
      clock,
      logger: createLogger({
        level: 'info',
        destination: { write: (line: string) => logLines.push(JSON.parse(line)) },
      }),
    });
  });

  afterAll(async () => {
    for (const release of hung) release();
    await verifier?.close();
  });

  beforeEach(() => {
    store = 'up';
  });

  const review = (token = 'kob_some-token'): Promise<HttpAnswer> =>
    postRaw(`${verifier.url}/authenticate`, tokenReviewRequestBody('v1', 35, token, ['api']));

  function expectRetryable(answer: HttpAnswer): void {
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 503, details: { retryAfterSeconds: 1 } });
  }

  function expectFinal(answer: HttpAnswer): void {
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBeUndefined();
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(body.details).toBeUndefined();
    expect(answer.body).not.toContain('authenticated');
  }

  it('short outage: 503 + Retry-After throughout the window; long outage: 503 without it; recovery: a 200 and Retry-After again', async () => {
    expect((await review()).status).toBe(200);

    store = 'down';
    expectRetryable(await review());
    clock.advance(5);
    expectRetryable(await review());
    clock.advance(5);
    expectRetryable(await review()); // exactly the window: still retried

    clock.advance(1);
    expectFinal(await review());
    expectFinal(await review());
    expect(logLines.filter((l) => String(l.msg).includes('storeOutageRetryWindow'))).toHaveLength(1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/kob_token_reviews_total\{result="unavailable",version="v1"\} 5/);

    store = 'up';
    const recovered = await review();
    expect(recovered.status).toBe(200);
    expect(JSON.parse(recovered.body).status).toEqual({ authenticated: false });
    expect(logLines.some((l) => String(l.msg).includes('503s carry Retry-After again'))).toBe(true);

    // The next outage gets its own window.
    store = 'down';
    clock.advance(60);
    expectRetryable(await review());
  });

  it('a review that never reads the store (an empty token) does not close the circuit', async () => {
    expect((await review()).status).toBe(200);
    store = 'down';
    expectRetryable(await review());
    clock.advance(11);
    expectFinal(await review());
    // Denied before any store read: says nothing about the store.
    expect((await review('')).status).toBe(200);
    expectFinal(await review());
  });

  it('a hung store past the window: both the deadline answer and a shed review come without Retry-After', async () => {
    expect((await review()).status).toBe(200);
    store = 'down';
    expectRetryable(await review());
    clock.advance(11);
    store = 'hung';
    // One review holds the one lookup slot until the 200 ms deadline; the other is shed.
    const answers = await Promise.all([review(), review()]);
    for (const answer of answers) expectFinal(answer);
    expect(answers.map((a) => JSON.parse(a.body).message).sort()).toEqual([
      'token store unavailable',
      'verifier overloaded',
    ]);
    expect(await metrics.registry.metrics()).toMatch(
      /kob_token_reviews_total\{result="shed",version="v1"\} 1/,
    );
  });
});
