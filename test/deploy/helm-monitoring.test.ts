import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { promtool } from '../ops/prometheus-tools.js';
import { dashboardFile, rulesFile } from '../ops/promql-names.js';
import { ChartWorkspace } from './chart-workspace.js';
import { chartDir, lintChart, renderChart, tryRenderChart } from './rendered-chart.js';

/**
 * The chart's monitoring extras: the project's alert rules as a PrometheusRule and its Grafana
 * dashboard as a sidecar ConfigMap, both off by default and both the files shipped in deploy/.
 */

let ws: ChartWorkspace;

beforeAll(() => {
  ws = ChartWorkspace.create();
});

afterAll(() => {
  ws.dispose();
});

const bothOn = ['prometheusRule.enabled=true', 'grafanaDashboard.enabled=true'];

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; annotations?: Record<string, string> }[] }[];
}

describe('chart copies of the rules and the dashboard', () => {
  it.each([
    { copy: 'files/prometheus-rules.yaml', original: rulesFile },
    { copy: 'files/grafana-dashboard.json', original: dashboardFile },
  ])('$copy is byte for byte the file in deploy/ (copy it after every change)', ({ copy, original }) => {
    expect(readFileSync(join(chartDir, copy), 'utf8')).toBe(readFileSync(original, 'utf8'));
  });
});

describe('PrometheusRule', () => {
  it('is not rendered by default, nor the dashboard', async () => {
    const chart = await renderChart({ home: ws.folder('helm') });
    expect(chart.all('PrometheusRule')).toEqual([]);
    expect(chart.all('ConfigMap').map((c) => c.metadata.name)).toEqual(['kob-kube-oidc-bridge']);
  });

  it('holds exactly the groups of deploy/prometheus/rules.yaml, with the selector labels given', async () => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      set: ['prometheusRule.enabled=true', 'prometheusRule.labels.release=kube-prometheus-stack'],
    });
    const rule = chart.one('PrometheusRule');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(rule.metadata.labels?.['app.kubernetes.io/instance']).toBe('kob');
    expect(rule.spec).toEqual(parse(readFileSync(rulesFile, 'utf8')));
    // Alert templates reach the Operator untouched (Helm does not evaluate them).
    expect(JSON.stringify(rule.spec)).toContain('{{ $labels.instance }}');
  });

  it('the rendered rules pass promtool check rules', async () => {
    const chart = await renderChart({ home: ws.folder('helm'), set: ['prometheusRule.enabled=true'] });
    const file = join(ws.folder('rules'), 'rendered-rules.yaml');
    writeFileSync(file, stringify(chart.one('PrometheusRule').spec));
    const result = await promtool(['check', 'rules', file]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('runbookBaseURL points every runbook_url at the operator’s copy of the runbook', async () => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      set: [
        'prometheusRule.enabled=true',
        'prometheusRule.runbookBaseURL=https://wiki.example.com/kob/runbook/',
      ],
    });
    const alerts = (chart.one('PrometheusRule').spec as RuleGroups).groups
      .flatMap((g) => g.rules)
      .filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      expect(alert.annotations?.runbook_url).toBe(
        `https://wiki.example.com/kob/runbook#${alert.alert?.toLowerCase()}`,
      );
    }
  });

  it('refuses a runbookBaseURL that is not an http(s) address and a misspelt key', async () => {
    const home = ws.folder('helm');
    const badURL = await tryRenderChart({
      home,
      set: ['prometheusRule.enabled=true', 'prometheusRule.runbookBaseURL=wiki/runbook'],
    });
    expect(badURL.code).not.toBe(0);
    expect(badURL.stderr).toContain('runbookBaseURL');
    const misspelt = await tryRenderChart({ home, set: ['prometheusRule.enable=true'] });
    expect(misspelt.code).not.toBe(0);
    expect(misspelt.stderr).toContain('enable');
  });
});

describe('Grafana dashboard ConfigMap', () => {
  it('carries the sidecar label and the dashboard JSON of deploy/grafana', async () => {
    const chart = await renderChart({ home: ws.folder('helm'), set: ['grafanaDashboard.enabled=true'] });
    const configMap = chart.one('ConfigMap', 'kob-kube-oidc-bridge-dashboard');
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(configMap.data?.['kube-oidc-bridge.json'] ?? '')).toEqual(
      JSON.parse(readFileSync(dashboardFile, 'utf8')),
    );
  });

  it('goes to the namespace the sidecar watches, with its own label and folder annotation', async () => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      set: [
        'grafanaDashboard.enabled=true',
        'grafanaDashboard.namespace=monitoring',
        'grafanaDashboard.labels.grafana_dashboard=null',
        'grafanaDashboard.labels.dashboards=kob',
        'grafanaDashboard.annotations.grafana_folder=Authentication',
      ],
    });
    const configMap = chart.one('ConfigMap', 'kob-kube-oidc-bridge-dashboard');
    expect(configMap.metadata).toMatchObject({
      namespace: 'monitoring',
      annotations: { grafana_folder: 'Authentication' },
    });
    expect(configMap.metadata.labels?.dashboards).toBe('kob');
    expect(configMap.metadata.labels).not.toHaveProperty('grafana_dashboard');
  });
});

describe('helm lint with both on', () => {
  for (const strict of [false, true]) {
    it(`passes${strict ? ' --strict' : ''}`, async () => {
      const result = await lintChart({ home: ws.folder('helm'), set: bothOn, strict });
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('0 chart(s) failed');
      expect(result.code).toBe(0);
    });
  }
});
