import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The operations kit under test, in the repository. */
export const rulesFile = fileURLToPath(new URL('../../deploy/prometheus/rules.yaml', import.meta.url));
export const rulesTestFile = fileURLToPath(
  new URL('../../deploy/prometheus/rules.test.yaml', import.meta.url),
);
export const dashboardFile = fileURLToPath(
  new URL('../../deploy/grafana/kube-oidc-bridge.json', import.meta.url),
);
export const runbookFile = fileURLToPath(new URL('../../docs/runbook.md', import.meta.url));

/** PromQL words that are not metric names (operators and modifiers), and the literals. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: every bare identifier that is not a function call,
 * a keyword or a label inside `{…}`, `by (…)` and friends. Grafana's `$variables` are only allowed
 * where they cannot name a metric (inside matchers and ranges).
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  if (stripped.includes('$')) throw new Error(`a template variable where a metric name goes: ${expr}`);
  const names = new Set<string>();
  const token = /(\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-z]*)|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g;
  for (const match of stripped.matchAll(token)) {
    const [, number, identifier, call] = match;
    if (number !== undefined || identifier === undefined || call !== undefined) continue;
    if (KEYWORDS.has(identifier.toLowerCase())) continue;
    names.add(identifier);
  }
  return [...names];
}

/**
 * Names a `/metrics` page declares (`# TYPE name type`), with the series names Prometheus derives
 * from histograms and summaries. A labelled counter nobody incremented yet is declared but has no
 * sample line: it is still a metric the code exports.
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every rule of a rules file, recording and alerting, in file order. */
export function readRules(file = rulesFile): Rule[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

export interface DashboardQuery {
  panel: string;
  expr: string;
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every PromQL query of the dashboard: panel targets (rows included) and query variables. */
export function dashboardQueries(file = dashboardFile): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string; type: string; query?: { query?: string } | string }[] };
  };
  const queries: DashboardQuery[] = [];
  const visit = (panel: Panel) => {
    for (const target of panel.targets ?? []) {
      if (target.expr) queries.push({ panel: panel.title, expr: target.expr });
    }
    for (const inner of panel.panels ?? []) visit(inner);
  };
  for (const panel of dashboard.panels) visit(panel);
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    // label_values(METRIC, LABEL) asks for METRIC's series.
    const labelValues = /^label_values\(\s*([^,]+),\s*\w+\s*\)$/.exec(query);
    queries.push({ panel: `variable ${variable.name}`, expr: labelValues?.[1] ?? query });
  }
  return queries;
}

/**
 * A dashboard query as Prometheus can run it: Grafana's interval and range variables become fixed
 * durations, the job filter matches every job.
 */
export function concreteQuery(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$job', '.+');
}
