import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import {
  type ApiserverDouble,
  type ApiserverDoubleOptions,
  startApiserverDouble,
} from '../support/apiserver-double.js';
import { readWebhookKubeconfig } from '../support/apiserver-webhook-kubeconfig.js';
import { createCertWorkspace } from '../support/certs.js';
import { freePort } from '../support/free-port.js';
import { runKubectl } from '../support/k8s-tools.js';
import {
  type Responder,
  reviewAnswer,
  startThrowawayWebhook,
  type ThrowawayWebhook,
} from './throwaway-webhook.js';

const API_AUDIENCE = 'https://kubernetes.default.svc';
const alice = { username: 'alice@example.com', uid: 'u-1', groups: ['oidc:dev'] };

function httpAnswer(status: number, headers: Record<string, string> = {}): Responder {
  return () => ({
    status,
    headers,
    body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status },
  });
}

describe('kube-apiserver double (docs/design.md §3)', () => {
  const certs = createCertWorkspace();
  let webhook: ThrowawayWebhook;

  beforeAll(async () => {
    webhook = await startThrowawayWebhook(certs, 'double');
  });
  afterAll(async () => {
    await webhook.close();
    certs.dispose();
  });
  beforeEach(() => {
    webhook.received.length = 0;
    webhook.answer(reviewAnswer({ authenticated: true, user: alice }));
  });

  async function withDouble(
    options: Partial<ApiserverDoubleOptions>,
    body: (double: ApiserverDouble) => Promise<void>,
  ): Promise<void> {
    const double = await startApiserverDouble({
      webhookConfigFile: webhook.kubeconfigFile,
      retryBackoff: { initialMs: 5, jitter: 0 },
      retryAfterUnitMs: 1,
      certs,
      ...options,
    });
    try {
      await body(double);
    } finally {
      await double.close();
    }
  }

  describe('webhook kubeconfig', () => {
    it('is read like clientcmd: current context, relative paths against its folder, *-data over files', () => {
      const dir = mkdtempSync(join(certs.dir, 'kubeconfig-'));
      const ca = certs.createCA('relative');
      writeFileSync(join(dir, 'ca.crt'), ca.cert);
      writeFileSync(
        join(dir, 'webhook.kubeconfig'),
        [
          'clusters:',
          '- name: other',
          '  cluster: { server: "https://other.invalid/" }',
          '- name: verifier',
          '  cluster: { server: "https://127.0.0.1:9443/authenticate", certificate-authority: ca.crt }',
          'users:',
          '- name: apiserver',
          `  user: { client-certificate: missing.crt, client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key-data: ${Buffer.from('KEY').toString('base64')} }`,
          'contexts:',
          '- name: webhook',
          '  context: { cluster: verifier, user: apiserver }',
          'current-context: webhook',
        ].join('\n'),
      );
      expect(readWebhookKubeconfig(join(dir, 'webhook.kubeconfig'))).toMatchObject({
        server: new URL('https://127.0.0.1:9443/authenticate'),
        ca: ca.cert,
        clientCert: 'CERT',
        clientKey: 'KEY',
      });
    });

    it('without current-context the apiserver would not start: the double refuses too', () => {
      const file = join(certs.dir, 'no-context.kubeconfig');
      writeFileSync(file, 'clusters: []\n');
      expect(() => readWebhookKubeconfig(file)).toThrow(/current-context/);
    });
  });

  describe('request bytes', () => {
    const cases = [
      {
        name: 'v1beta1 by default, metadata {} as apiservers from 1.34 on send it',
        options: {},
        body: `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1beta1","metadata":{},"spec":{"token":"kob_t","audiences":["${API_AUDIENCE}"]},"status":{"user":{}}}\n`,
      },
      {
        name: 'v1 when --authentication-token-webhook-version=v1',
        options: { webhookVersion: 'v1' as const },
        body: `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":"kob_t","audiences":["${API_AUDIENCE}"]},"status":{"user":{}}}\n`,
      },
      {
        name: 'metadata {"creationTimestamp":null} as apiservers before 1.34 send it',
        options: { kubernetesMinor: 33 },
        body: `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1beta1","metadata":{"creationTimestamp":null},"spec":{"token":"kob_t","audiences":["${API_AUDIENCE}"]},"status":{"user":{}}}\n`,
      },
      {
        name: 'no spec.audiences when the apiserver has no API audiences',
        options: { apiAudiences: [] },
        body: '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1beta1","metadata":{},"spec":{"token":"kob_t"},"status":{"user":{}}}\n',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        await withDouble(c.options, async (double) => {
          await double.authenticate('kob_t');
          expect(webhook.received).toHaveLength(1);
          expect(webhook.received[0]?.body).toBe(c.body);
          expect(double.reviews[0]?.requestBody).toBe(c.body);
        });
      });
    }

    it('POSTs JSON to the kubeconfig URL with ?timeout=30s, presenting the kubeconfig client certificate', async () => {
      await withDouble({}, async (double) => {
        await double.authenticate('kob_t');
        const got = webhook.received[0];
        expect(got?.path).toBe('/authenticate?timeout=30s');
        expect(got?.headers['content-type']).toBe('application/json');
        expect(got?.headers.accept).toBe('application/json, */*');
        expect(got?.headers['user-agent']).toMatch(/^kube-apiserver\/v1\.35\.0 /);
        expect(got?.clientCN).toBe('kube-apiserver-client');
      });
    });
  });

  describe('answer version', () => {
    const cases: {
      name: string;
      options: Partial<ApiserverDoubleOptions>;
      answer: Responder;
      result: string;
    }[] = [
      {
        name: 'a v1beta1 answer to a v1beta1 review is accepted',
        options: {},
        answer: reviewAnswer({ authenticated: true, user: alice }),
        result: 'authenticated',
      },
      {
        name: 'version mismatch rejected: v1 answer to a v1beta1 review',
        options: {},
        answer: reviewAnswer({ authenticated: true, user: alice }, 'authentication.k8s.io/v1'),
        result: 'error',
      },
      {
        name: 'version mismatch rejected: v1beta1 answer to a v1 review',
        options: { webhookVersion: 'v1' },
        answer: reviewAnswer({ authenticated: true, user: alice }, 'authentication.k8s.io/v1beta1'),
        result: 'error',
      },
      {
        name: 'an answer without kind is rejected',
        options: {},
        answer: (r) => ({
          status: 200,
          body: { apiVersion: r.apiVersion, status: { authenticated: true, user: alice } },
        }),
        result: 'error',
      },
      {
        name: 'an answer whose authenticated is not a boolean is rejected',
        options: {},
        answer: reviewAnswer({ authenticated: 'true', user: alice }),
        result: 'error',
      },
      {
        name: 'field names are case-sensitive: Authenticated is not authenticated',
        options: {},
        answer: reviewAnswer({ Authenticated: true, user: alice }),
        result: 'denied',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        webhook.answer(c.answer);
        await withDouble(c.options, async (double) => {
          expect((await double.authenticate('kob_t')).result).toBe(c.result);
        });
      });
    }
  });

  describe('retries', () => {
    const cases: { name: string; answers: Responder[]; attempts: number; result: string }[] = [
      { name: '500 is retried up to 5 attempts', answers: [httpAnswer(500)], attempts: 5, result: 'error' },
      { name: '502 is retried', answers: [httpAnswer(502)], attempts: 5, result: 'error' },
      { name: '504 is retried', answers: [httpAnswer(504)], attempts: 5, result: 'error' },
      { name: '429 is retried', answers: [httpAnswer(429)], attempts: 5, result: 'error' },
      {
        name: "503 with Retry-After: client-go's REST client resends it 10 times, in each of the 5 attempts",
        answers: [httpAnswer(503, { 'Retry-After': '1' })],
        attempts: 55,
        result: 'error',
      },
      {
        name: 'a 503 with Retry-After then a decision: the REST client resend takes it',
        answers: [
          httpAnswer(503, { 'Retry-After': '1' }),
          reviewAnswer({ authenticated: true, user: alice }),
        ],
        attempts: 2,
        result: 'authenticated',
      },
      {
        name: 'a 4xx with Retry-After is retried',
        answers: [httpAnswer(409, { 'Retry-After': '1' })],
        attempts: 5,
        result: 'error',
      },
      {
        name: '503 without Retry-After is not retried',
        answers: [httpAnswer(503)],
        attempts: 1,
        result: 'error',
      },
      { name: '400 is not retried', answers: [httpAnswer(400)], attempts: 1, result: 'error' },
      { name: '401 is not retried', answers: [httpAnswer(401)], attempts: 1, result: 'error' },
      { name: '404 is not retried', answers: [httpAnswer(404)], attempts: 1, result: 'error' },
      {
        name: 'a 500 then a decision: the decision is taken on the second attempt',
        answers: [httpAnswer(500), reviewAnswer({ authenticated: true, user: alice })],
        attempts: 2,
        result: 'authenticated',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        webhook.answer(...c.answers);
        await withDouble({}, async (double) => {
          expect((await double.authenticate('kob_t')).result).toBe(c.result);
          expect(webhook.received).toHaveLength(c.attempts);
          expect(double.reviews.map((r) => r.attempt)).toEqual(
            Array.from({ length: c.attempts }, (_, i) => i + 1),
          );
        });
      });
    }

    it('waits initial × 1.5^n between attempts (500 ms upstream; 20 ms here)', async () => {
      webhook.answer(httpAnswer(500));
      await withDouble({ retryBackoff: { initialMs: 20, jitter: 0 } }, async (double) => {
        await double.authenticate('kob_t');
        const gaps = webhook.received.slice(1).map((r, i) => r.at - (webhook.received[i]?.at ?? 0));
        const expected = [20, 30, 45, 67.5];
        expect(gaps).toHaveLength(4);
        gaps.forEach((gap, i) => {
          expect(gap).toBeGreaterThanOrEqual((expected[i] ?? 0) - 2);
        });
      });
    });

    it("gives up at the token cache's shared lookup timeout (30 s upstream; 300 ms here)", async () => {
      webhook.answer(httpAnswer(503, { 'Retry-After': '1' }));
      await withDouble({ retryAfterUnitMs: 100, lookupTimeoutMs: 300 }, async (double) => {
        const started = Date.now();
        const outcome = await double.authenticate('kob_t');
        expect(outcome).toMatchObject({ result: 'error' });
        expect(Date.now() - started).toBeGreaterThanOrEqual(290);
        expect(Date.now() - started).toBeLessThan(1500);
        expect(webhook.received.length).toBeLessThanOrEqual(4);
      });
    });

    it('a connection refused is not retried and not cached', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kob-double-'));
      try {
        const closedPort = await freePort();
        const file = join(dir, 'webhook.kubeconfig');
        writeFileSync(
          file,
          readFileSync(webhook.kubeconfigFile, 'utf8').replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${closedPort}`),
        );
        await withDouble({ webhookConfigFile: file }, async (double) => {
          expect((await double.authenticate('kob_t')).result).toBe('error');
          expect((await double.authenticate('kob_t')).result).toBe('error');
          expect(double.reviews.map((r) => r.attempt)).toEqual([1, 1]);
          expect(double.reviews[0]?.transportError).toMatch(/ECONNREFUSED/);
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('cache (--authentication-token-webhook-cache-ttl 2m)', () => {
    it('cache hit within 2 minutes and miss after', async () => {
      const clock = new ManualClock();
      await withDouble({ clock }, async (double) => {
        expect((await double.authenticate('kob_t')).result).toBe('authenticated');
        clock.advance(119);
        expect((await double.authenticate('kob_t')).result).toBe('authenticated');
        expect(webhook.received).toHaveLength(1);
        expect(double.cacheStats).toEqual({ hits: 1, misses: 1 });
        clock.advance(1);
        await double.authenticate('kob_t');
        expect(webhook.received).toHaveLength(2);
      });
    });

    const cases: { name: string; answer: Responder; result: string; calls: number }[] = [
      {
        name: 'a plain denial is cached',
        answer: reviewAnswer({ authenticated: false }),
        result: 'denied',
        calls: 1,
      },
      {
        name: 'error-bearing denials not cached',
        answer: reviewAnswer({ authenticated: false, error: 'token store unavailable' }),
        result: 'error',
        calls: 2,
      },
      { name: 'a 400 answer is not cached', answer: httpAnswer(400), result: 'error', calls: 2 },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        webhook.answer(c.answer);
        await withDouble({ clock: new ManualClock() }, async (double) => {
          expect((await double.authenticate('kob_t')).result).toBe(c.result);
          expect((await double.authenticate('kob_t')).result).toBe(c.result);
          expect(webhook.received).toHaveLength(c.calls);
        });
      });
    }

    it('concurrent lookups of one token share one webhook call', async () => {
      await withDouble({}, async (double) => {
        const outcomes = await Promise.all([1, 2, 3, 4].map(() => double.authenticate('kob_t')));
        expect(outcomes.map((o) => o.result)).toEqual([
          'authenticated',
          'authenticated',
          'authenticated',
          'authenticated',
        ]);
        expect(webhook.received).toHaveLength(1);
      });
    });

    it('clearCache() forgets cached answers', async () => {
      await withDouble({}, async (double) => {
        await double.authenticate('kob_t');
        double.clearCache();
        await double.authenticate('kob_t');
        expect(webhook.received).toHaveLength(2);
      });
    });
  });

  describe('audience intersection', () => {
    const other = 'https://other-cluster.example';
    const cases: {
      name: string;
      apiAudiences: string[];
      statusAudiences?: string[];
      outcome: { result: string; audiences?: string[]; reason?: string };
    }[] = [
      {
        name: 'answer audiences that include the API audience: authenticated for it',
        apiAudiences: [API_AUDIENCE],
        statusAudiences: [API_AUDIENCE, other],
        outcome: { result: 'authenticated', audiences: [API_AUDIENCE] },
      },
      {
        name: 'no answer audiences: the API audiences are assumed',
        apiAudiences: [API_AUDIENCE],
        outcome: { result: 'authenticated', audiences: [API_AUDIENCE] },
      },
      {
        name: 'empty intersection: unauthenticated even though the webhook said yes',
        apiAudiences: [API_AUDIENCE],
        statusAudiences: [other],
        outcome: { result: 'denied', reason: 'audiences' },
      },
      {
        name: 'several API audiences: only the common ones remain',
        apiAudiences: [API_AUDIENCE, 'https://api.example'],
        statusAudiences: ['https://api.example', other],
        outcome: { result: 'authenticated', audiences: ['https://api.example'] },
      },
      {
        name: 'no API audiences: nothing sent, nothing checked',
        apiAudiences: [],
        statusAudiences: [other],
        outcome: { result: 'authenticated', audiences: [] },
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        webhook.answer(reviewAnswer({ authenticated: true, user: alice, audiences: c.statusAudiences }));
        await withDouble({ apiAudiences: c.apiAudiences }, async (double) => {
          expect(await double.authenticate('kob_t')).toMatchObject(c.outcome);
        });
      });
    }

    it('a foreign-audience answer carrying status.error is a plain, cached denial (audiences are checked first)', async () => {
      webhook.answer(reviewAnswer({ authenticated: false, error: 'boom', audiences: [other] }));
      await withDouble({ clock: new ManualClock() }, async (double) => {
        expect(await double.authenticate('kob_t')).toEqual({ result: 'denied', reason: 'audiences' });
        await double.authenticate('kob_t');
        expect(webhook.received).toHaveLength(1);
      });
    });
  });

  describe('user', () => {
    it('adds system:authenticated to the groups the webhook returned', async () => {
      await withDouble({}, async (double) => {
        expect(await double.authenticate('kob_t')).toMatchObject({
          result: 'authenticated',
          user: { username: 'alice@example.com', uid: 'u-1', groups: ['oidc:dev', 'system:authenticated'] },
        });
      });
    });

    it('does not add it twice', async () => {
      webhook.answer(
        reviewAnswer({ authenticated: true, user: { username: 'bob', groups: ['system:authenticated'] } }),
      );
      await withDouble({}, async (double) => {
        expect(await double.authenticate('kob_t')).toMatchObject({
          user: { groups: ['system:authenticated'] },
        });
      });
    });
  });

  describe('HTTPS API for kubectl', () => {
    function get(
      double: ApiserverDouble,
      path: string,
      token?: string,
    ): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = request(`${double.url}${path}`, {
          ca: readFileSync(double.caFile),
          headers: token ? { Authorization: `Bearer ${token}` } : {},
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    }

    it('answers 401 with an Unauthorized Status without a token, with an empty one, and when the webhook says no', async () => {
      webhook.answer(reviewAnswer({ authenticated: false }));
      await withDouble({}, async (double) => {
        for (const token of [undefined, ' ', 'kob_unknown']) {
          const res = await get(double, '/version', token);
          expect(res.status).toBe(401);
          expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
        }
        expect(webhook.received).toHaveLength(1);
      });
    });

    it('kubectl 1.35 get --raw /version and auth whoami show the user the webhook returned', async () => {
      const home = mkdtempSync(join(tmpdir(), 'kob-kubectl-'));
      try {
        await withDouble({}, async (double) => {
          const kubeconfig = join(home, 'kubeconfig');
          double.writeKubeconfig(kubeconfig);
          const version = await runKubectl(
            ['--kubeconfig', kubeconfig, '--token', 'kob_t', 'get', '--raw', '/version'],
            {
              home,
            },
          );
          expect(version.stderr).toBe('');
          expect(JSON.parse(version.stdout)).toMatchObject({ gitVersion: 'v1.35.0' });
          const whoami = await runKubectl(
            ['--kubeconfig', kubeconfig, '--token', 'kob_t', 'auth', 'whoami', '-o', 'json'],
            {
              home,
            },
          );
          expect(JSON.parse(whoami.stdout).status.userInfo).toEqual({
            username: 'alice@example.com',
            uid: 'u-1',
            groups: ['oidc:dev', 'system:authenticated'],
          });
          expect(webhook.received).toHaveLength(1);
        });
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });
  });
});
