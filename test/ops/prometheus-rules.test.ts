import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promtool } from './prometheus-tools.js';
import { metricNamesIn, readRules, rulesFile, rulesTestFile, runbookFile } from './promql-names.js';

/**
 * deploy/prometheus/rules.yaml: `promtool check rules` and `promtool test rules` pass, every alert
 * has a unit test where it fires and a runbook section, and a broken rule makes promtool fail.
 */

const alerts = readRules().filter((r) => r.alert !== undefined);
const scratch = mkdtempSync(join(tmpdir(), 'kob-rules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface RulesTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

/** The rules and their tests copied to a scratch folder, the rules changed by `edit`. */
function sabotagedCopy(edit: (rules: string) => string): { rules: string; tests: string } {
  const dir = mkdtempSync(join(scratch, 'case-'));
  const original = readFileSync(rulesFile, 'utf8');
  const changed = edit(original);
  expect(changed).not.toBe(original);
  writeFileSync(join(dir, 'rules.yaml'), changed);
  copyFileSync(rulesTestFile, join(dir, 'rules.test.yaml'));
  return { rules: join(dir, 'rules.yaml'), tests: join(dir, 'rules.test.yaml') };
}

describe('promtool on deploy/prometheus/rules.yaml', () => {
  it('promtool check rules accepts the file', async () => {
    const result = await promtool(['check', 'rules', rulesFile]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('promtool test rules passes every unit test in rules.test.yaml', async () => {
    const result = await promtool(['test', 'rules', rulesTestFile]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('a broken expression fails promtool check rules, naming the problem', async () => {
    const copy = sabotagedCopy((rules) =>
      rules.replace(
        'expr: sum by (operation) (rate(kob_store_errors_total[5m])) > 0',
        'expr: sum by (operation) (rate(kob_store_errors_total[5m]) > 0',
      ),
    );
    const result = await promtool(['check', 'rules', copy.rules]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/parse error|unclosed/i);
  });

  it('a wrong threshold fails promtool test rules, naming the alert whose test broke', async () => {
    const copy = sabotagedCopy((rules) =>
      rules.replace(
        'kob:token_review_errors:ratio_rate5m > 0.05',
        'kob:token_review_errors:ratio_rate5m > 0.5',
      ),
    );
    const result = await promtool(['test', 'rules', copy.tests]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('alertname: KobTokenReviewErrorRatioHigh');
  });
});

describe('every alert', () => {
  const tests = parse(readFileSync(rulesTestFile, 'utf8')) as RulesTests;
  const runbook = readFileSync(runbookFile, 'utf8');
  const headings = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]));

  it('the suite covers the issue list: errors, 503s, store, latency, readiness, logins, reuse, rate limits, certificates, data loss', () => {
    const used = new Set(alerts.flatMap((a) => metricNamesIn(a.expr)));
    for (const name of [
      'kob:token_review_errors:ratio_rate5m',
      'kob_token_reviews_total',
      'kob_store_errors_total',
      'kob:token_review_duration_seconds:p99_5m',
      'kob_ready',
      'kob:login_failures:ratio_rate15m',
      'kob_refreshes_total',
      'kob_rate_limited_total',
      'kob:certificate_expiry:days',
      'kob_store_data_loss_total',
    ]) {
      expect(used).toContain(name);
    }
  });

  it.each(alerts.map((a) => ({ name: a.alert as string, rule: a })))(
    '$name: a severity, a runbook_url to its own runbook section, and a unit test where it fires',
    ({ name, rule }) => {
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.runbook_url).toBe(`docs/runbook.md#${name.toLowerCase()}`);
      expect(headings).toContain(name);
      const firing = tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((c) => c.alertname === name && c.exp_alerts.length > 0),
      );
      expect(firing.length).toBeGreaterThan(0);
    },
  );

  it('the runbook has no section for an alert that does not exist', () => {
    const names = new Set(alerts.map((a) => a.alert));
    const orphans = [...headings].filter((h) => h?.startsWith('Kob') && !names.has(h));
    expect(orphans).toEqual([]);
  });
});
