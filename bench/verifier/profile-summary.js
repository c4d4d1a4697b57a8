import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a function lives, coarsely: an npm package, a folder of dist/, node internals, or the runtime. */
function areaOf(url) {
  if (!url) return '(runtime: GC, idle, native)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  const own = url.match(/\/dist\/([^/]+)\//);
  if (own) return `kube-oidc-bridge ${own[1]}/`;
  if (url.startsWith('node:'))
    return url.replace(/^node:internal\/([^/]+).*/, 'node $1').replace(/^node:/, 'node ');
  return url;
}

/**
 * Summarises the V8 CPU profile(s) `node --cpu-prof` wrote in `dir`: self time by area, the functions
 * with the most self time (what a function spent in its own code), and the project's own functions by
 * inclusive time (their own code plus everything they called: where a review's time goes).
 */
export function summariseProfiles(dir, top = 15) {
  const byArea = new Map();
  const byFunction = new Map();
  const inclusive = new Map();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map();
    for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      const micros = profile.timeDeltas[i] ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') return;
      total += micros;
      const area = areaOf(url);
      byArea.set(area, (byArea.get(area) ?? 0) + micros);
      const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
      const onStack = new Set();
      for (let at = id; at !== undefined; at = parents.get(at)) {
        const frame = nodes.get(at).callFrame;
        if (frame.url.includes('/dist/'))
          onStack.add(`${frame.functionName || '(anonymous)'} ${areaOf(frame.url)}`);
      }
      for (const fn of onStack) inclusive.set(fn, (inclusive.get(fn) ?? 0) + micros);
    });
  }
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, share: micros / total }));
  return {
    busyMs: total / 1000,
    areas: rank(byArea),
    functions: rank(byFunction),
    inclusive: rank(inclusive),
  };
}
