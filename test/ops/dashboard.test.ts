import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRaw } from '../verifier/https-post.js';
import { dashboardQueries, exportedNames, metricNamesIn, readRules } from './promql-names.js';
import { type RunningProduct, startRunningProduct } from './running-product.js';

/**
 * The Grafana dashboard only asks for metrics the code exports: every metric name in every panel's
 * PromQL is compared with the `/metrics` pages of a running verifier and issuer (or is a recording
 * rule of rules.yaml).
 */

let product: RunningProduct;
let exported: Set<string>;

beforeAll(async () => {
  product = await startRunningProduct();
  await product.exercise();
  exported = new Set<string>();
  for (const target of Object.values(product.targets)) {
    const page = await postRaw(`http://${target}/metrics`, '', { method: 'GET' });
    expect(page.status).toBe(200);
    for (const name of exportedNames(page.body)) exported.add(name);
  }
});

afterAll(async () => {
  await product?.close();
});

describe('metric name extraction from PromQL', () => {
  it.each([
    {
      name: 'rate over a counter, aggregated by a label',
      expr: 'sum by (result) (rate(kob_token_reviews_total{job=~"$job",result="error"}[$__rate_interval]))',
      names: ['kob_token_reviews_total'],
    },
    {
      name: 'histogram quantile with a literal',
      expr: 'histogram_quantile(0.99, sum by (le) (rate(kob_token_review_duration_seconds_bucket[5m])))',
      names: ['kob_token_review_duration_seconds_bucket'],
    },
    {
      name: 'vector matching keywords and two metrics',
      expr: 'a_total / on (upstream) group_left sum by (upstream) (b_total) > 0.25 and bool c 1e9',
      names: ['a_total', 'b_total', 'c'],
    },
    { name: 'a recording rule name', expr: 'kob:x:rate5m > 0.05', names: ['kob:x:rate5m'] },
    { name: 'time() is a function, not a metric', expr: '(m - time()) / 86400', names: ['m'] },
  ])('$name', ({ expr, names }) => {
    expect(metricNamesIn(expr)).toEqual(names);
  });

  it('a template variable in place of a metric name is refused', () => {
    expect(() => metricNamesIn('rate($metric[5m])')).toThrow(/template variable/);
  });
});

describe('Grafana dashboard (deploy/grafana/kube-oidc-bridge.json)', () => {
  it('has the panels operators asked for', () => {
    const titles = new Set(dashboardQueries().map((q) => q.panel));
    for (const title of [
      'TokenReviews by result',
      'Review latency heatmap',
      'Store errors by operation',
      'Logins by upstream and result',
      'Refreshes by result',
      'Revocations by scope',
      'Active sessions',
    ]) {
      expect(titles).toContain(title);
    }
  });

  it('the running server really exports the metrics the checks rely on', () => {
    // Declared on both roles' pages (a guard against comparing with an empty or wrong page).
    for (const name of [
      'kob_token_reviews_total',
      'kob_token_review_duration_seconds_bucket',
      'kob_logins_total',
      'kob_ready',
      'kob_active_sessions',
      'kob_certificate_expiry_timestamp_seconds',
      'kob_process_process_cpu_seconds_total',
    ]) {
      expect(exported).toContain(name);
    }
  });

  it('every metric a panel or variable names is exported by the running server or recorded by rules.yaml', () => {
    const recorded = new Set(readRules().flatMap((r) => (r.record ? [r.record] : [])));
    const unknown = dashboardQueries().flatMap(({ panel, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !exported.has(name) && !recorded.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });
});
