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
 * Summarises the V8 CPU profile(s) `node --cpu-prof` wrote in `dir`: self time by area and the
 * functions with the most self time. Self time is what a function spent in its own code.
 */
export function summariseProfiles(dir, top = 15) {
  const byArea = new Map();
  const byFunction = new Map();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
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
    });
  }
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, share: micros / total }));
  return { busyMs: total / 1000, areas: rank(byArea), functions: rank(byFunction) };
}
