import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { earliestNotAfter } from '../../src/http/index.js';
import { until } from '../support/until.js';
import { startTestPrometheus, type TestPrometheus } from './prometheus-server.js';
import { concreteQuery, dashboardQueries, metricNamesIn, readRules, rulesFile } from './promql-names.js';
import { type RunningProduct, startRunningProduct } from './running-product.js';

/**
 * A real Prometheus (Debian's server binary) scrapes a running verifier and issuer and evaluates
 * rules.yaml: every metric the rules and the dashboard read is one Prometheus learned from the
 * scrape, every expression evaluates, every rule is healthy, and the certificate alerts fire on the
 * test PKI's two-day certificates.
 */

interface RuleState {
  name: string;
  type: 'recording' | 'alerting';
  health: string;
  lastError?: string;
  state?: string;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let product: RunningProduct;
let prometheus: TestPrometheus;
const rules = readRules();

async function instant(expr: string): Promise<Sample[]> {
  const data = await prometheus.api<{ resultType: string; result: Sample[] }>('query', { query: expr });
  return data.result;
}

beforeAll(async () => {
  product = await startRunningProduct();
  await product.exercise();
  prometheus = await startTestPrometheus({
    targets: { 'kob-verifier': product.targets.verifier, 'kob-issuer': product.targets.issuer },
    ruleFiles: [rulesFile],
  });
  await until('both targets scraped', async () => (await instant('up == 1')).length === 2, 30_000);
  // Traffic between scrapes, so counters move and rates are not all zero.
  await product.exercise();
  await until(
    'every rule evaluated and every recording rule producing series',
    async () => {
      const states = await ruleStates();
      if (states.some((r) => r.health !== 'ok')) return false;
      for (const rule of rules.filter((r) => r.record)) {
        if ((await instant(rule.record as string)).length === 0) return false;
      }
      return true;
    },
    60_000,
  );
});

afterAll(async () => {
  await prometheus?.close();
  await product?.close();
});

async function ruleStates(): Promise<RuleState[]> {
  const data = await prometheus.api<{ groups: { rules: RuleState[] }[] }>('rules');
  return data.groups.flatMap((g) => g.rules);
}

/** Metric names Prometheus learned from the targets' exposition (HELP/TYPE), with histogram series. */
async function scrapedNames(): Promise<Set<string>> {
  const metadata = await prometheus.api<Record<string, { type: string }[]>>('metadata');
  const names = new Set<string>();
  for (const [name, entries] of Object.entries(metadata)) {
    names.add(name);
    if (entries.some((e) => e.type === 'histogram')) {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    }
  }
  return names;
}

describe('Prometheus scraping the verifier and the issuer', () => {
  it('loads every rule of rules.yaml and evaluates each without error', async () => {
    const states = await ruleStates();
    expect(states.map((r) => r.name).sort()).toEqual(rules.map((r) => r.record ?? r.alert).sort());
    expect(states.filter((r) => r.health !== 'ok' || r.lastError)).toEqual([]);
  });

  it('every metric a rule reads is known to Prometheus from the scrape (no unknown metric)', async () => {
    const known = await scrapedNames();
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const unknown = rules.flatMap((rule) =>
      metricNamesIn(rule.expr)
        .filter((name) => !known.has(name) && !recorded.has(name))
        .map((name) => `${rule.record ?? rule.alert}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every recording rule produces series from the real scrape', async () => {
    for (const rule of rules.filter((r) => r.record)) {
      expect((await instant(rule.record as string)).length, rule.record).toBeGreaterThan(0);
    }
  });

  it.each(rules.map((r) => ({ name: (r.record ?? r.alert) as string, expr: r.expr })))(
    '$name evaluates as an instant query',
    async ({ expr }) => {
      const answer = await prometheus.query(expr);
      expect(answer.error).toBeUndefined();
      expect(answer.status).toBe('success');
      expect(answer.warnings ?? []).toEqual([]);
    },
  );

  it('every dashboard query evaluates, and its metrics are known from the scrape', async () => {
    const known = await scrapedNames();
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const problems: string[] = [];
    for (const { panel, expr } of dashboardQueries()) {
      const answer = await prometheus.query(concreteQuery(expr));
      if (answer.status !== 'success') problems.push(`${panel}: ${answer.error}`);
      for (const name of metricNamesIn(expr)) {
        if (!known.has(name) && !recorded.has(name)) problems.push(`${panel}: unknown metric ${name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the verifier reports its serving certificate and client CA expiry as the files say', async () => {
    const expiry = await instant('kob_certificate_expiry_timestamp_seconds{job="kob-verifier"}');
    const byKind = Object.fromEntries(expiry.map((s) => [s.metric.certificate, Number(s.value[1])]));
    expect(byKind).toEqual({
      serving: earliestNotAfter(readFileSync(product.verifierTLS.serving, 'utf8')),
      client_ca: earliestNotAfter(readFileSync(product.verifierTLS.clientCA, 'utf8')),
    });
    expect(expiry.every((s) => s.metric.role === 'verifier')).toBe(true);
  });

  it('the two-day test certificates fire both certificate alerts', async () => {
    await until(
      'certificate alerts firing',
      async () =>
        (await instant('ALERTS{alertstate="firing",alertname=~"Kob.*CertificateExpiresSoon"}')).length >= 2,
      30_000,
    );
    const firing = await instant('ALERTS{alertstate="firing",alertname=~"Kob.*CertificateExpiresSoon"}');
    expect(firing.map((s) => `${s.metric.alertname} ${s.metric.certificate ?? ''}`.trim()).sort()).toEqual([
      'KobCACertificateExpiresSoon client_ca',
      'KobServingCertificateExpiresSoon',
    ]);
  });

  it('readiness and active sessions come from the running store', async () => {
    const ready = await instant('kob_ready');
    expect(ready.map((s) => [s.metric.job, s.value[1]]).sort()).toEqual([
      ['kob-issuer', '1'],
      ['kob-verifier', '1'],
    ]);
    const sessions = await instant('max(kob_active_sessions)');
    expect(Number(sessions[0]?.value[1])).toBeGreaterThanOrEqual(1);
  });
});
