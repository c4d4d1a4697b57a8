import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir } from './rendered-chart.js';

describe('the values reference in the deployment guide', () => {
  const guide = readFileSync(join(chartDir, '..', '..', '..', 'docs', 'deploy-kubernetes.md'), 'utf8');
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;

  /** First-column keys of the reference table; `a.b.c`, `d` documents `a.b.c` and `a.b.d`. */
  const documented = (() => {
    const table = guide.slice(guide.indexOf('## Values reference'));
    const keys: string[] = [];
    for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
      const names = [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
      const [first = '', ...others] = names;
      const parent = first.includes('.') ? first.slice(0, first.lastIndexOf('.') + 1) : '';
      keys.push(first, ...others.map((name) => (name.includes('.') ? name : parent + name)));
    }
    return keys;
  })();

  function leafPaths(value: unknown, path: string): string[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
    const entries = Object.entries(value);
    if (entries.length === 0) return [path];
    return entries.flatMap(([k, v]) => leafPaths(v, path ? `${path}.${k}` : k));
  }

  function exists(path: string): boolean {
    let node: unknown = values;
    for (const part of path.split('.')) {
      if (node === null || typeof node !== 'object' || !(part in node)) return false;
      node = (node as Record<string, unknown>)[part];
    }
    return true;
  }

  it('documents every key of values.yaml (or a parent of it)', () => {
    const undocumented = leafPaths(values, '').filter(
      (leaf) => !documented.some((key) => leaf === key || leaf.startsWith(`${key}.`)),
    );
    expect(undocumented).toEqual([]);
  });

  it('documents no key that values.yaml does not have', () => {
    expect(documented.length).toBeGreaterThan(40);
    expect(documented.filter((key) => !exists(key))).toEqual([]);
  });
});
