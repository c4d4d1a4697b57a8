// CLI benchmark: wall time of `kube-oidc-bridge login` answering from a valid cached token, versus
// bare Node start-up (`node -e 0`), in the same run. Spawns alternate between the commands (so
// drift on a shared machine hits both alike); medians and their ratio are printed. Requirement: ≤ 1.6×;
// goal: ≤ 1.15×. With --sea, the standalone executable (npm run build:sea) is timed in the same rounds.
// On a runtime with Node's compile cache (≥ 22.1) the same login with NODE_DISABLE_COMPILE_CACHE=1 is
// interleaved too, so the cache's effect is measured in the same run.
//
//   npm run bench:cli              (builds first)
//   node bench/cli/run.js --pairs 200 --json results.json --sea build/sea/kube-oidc-bridge
//
// Every command runs under its own short-lived `sh`, as the plugin runs under its own kubectl: the
// plugin treats a second run from the same parent process as "the cluster refused the token".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cacheKey, cachePaths } from '../../dist/cli/plugin/cache-location.js';
import { writeCacheEntry } from '../../dist/cli/plugin/token-cache.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '10' },
    json: { type: 'string' },
    sea: { type: 'string' },
  },
});
const pairs = Number(values.pairs);
const warmup = Number(values.warmup);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repoRoot, 'bin', 'kube-oidc-bridge.js');

const issuer = 'https://issuer.bench.example';
const audience = 'https://cluster.bench.example';
const cacheDir = mkdtempSync(join(tmpdir(), 'kob-bench-cli-'));
const { file } = cachePaths(cacheDir, cacheKey({ issuer, clientId: 'kube-oidc-bridge' }));
writeCacheEntry(file, {
  version: 1,
  issuer,
  clientId: 'kube-oidc-bridge',
  tokens: {
    [audience]: { accessToken: `kob_${'a'.repeat(49)}`, expiresAt: Math.floor(Date.now() / 1000) + 3600 },
  },
});
const execInfo = JSON.stringify({
  apiVersion: 'client.authentication.k8s.io/v1',
  kind: 'ExecCredential',
  spec: { interactive: false },
});

const loginArgs = ['login', '--issuer', issuer, '--audience', audience, '--cache-dir', cacheDir];
const hasCompileCache = typeof module.enableCompileCache === 'function';
// The plugin's compile cache goes to a private folder of this run, so every run starts from a cold one.
const env = { ...process.env, KUBERNETES_EXEC_INFO: execInfo, XDG_CACHE_HOME: join(cacheDir, 'xdg') };
delete env.NODE_COMPILE_CACHE;
delete env.NODE_DISABLE_COMPILE_CACHE;
const commands = {
  node: [process.execPath, ['-e', '0'], env],
  login: [process.execPath, [bin, ...loginArgs], env],
  ...(hasCompileCache && {
    loginNoCompileCache: [process.execPath, [bin, ...loginArgs], { ...env, NODE_DISABLE_COMPILE_CACHE: '1' }],
  }),
  ...(values.sea ? { standalone: [values.sea, loginArgs, env] } : {}),
};
const labels = {
  node: 'node -e 0',
  login: 'kube-oidc-bridge login (cache)',
  loginNoCompileCache: '  same, compile cache off',
  standalone: 'standalone executable (cache)',
};

function timeOnce([cmd, args, env]) {
  const start = process.hrtime.bigint();
  const result = spawnSync('/bin/sh', ['-c', '"$@"; exit $?', 'sh', cmd, ...args], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

const names = Object.keys(commands);
for (const name of names.slice(1)) {
  const check = JSON.parse(timeOnce(commands[name]).stdout);
  if (check.kind !== 'ExecCredential' || !check.status?.token)
    throw new Error(`${name} did not print an ExecCredential`);
}

for (let i = 0; i < warmup; i++) for (const name of names) timeOnce(commands[name]);
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let i = 0; i < pairs; i++) {
  // Rotate which goes first, so none always runs on a freshly warmed page cache.
  const order = names.map((_, k) => names[(i + k) % names.length]);
  for (const name of order) samples[name].push(timeOnce(commands[name]).ms);
}
rmSync(cacheDir, { recursive: true, force: true });

function quantile(list, q) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const summary = Object.fromEntries(
  Object.entries(samples).map(([name, list]) => [
    name,
    { median: quantile(list, 0.5), p10: quantile(list, 0.1), p90: quantile(list, 0.9), runs: list.length },
  ]),
);
const ratio = summary.login.median / summary.node.median;
const f = (n) => n.toFixed(1).padStart(7);
console.log(
  `node ${process.version}, ${pairs} interleaved rounds, ${warmup} warm-up rounds, compile cache ${hasCompileCache ? 'available' : 'not in this Node'}, load average ${loadavg()[0].toFixed(1)} at the end`,
);
console.log('command                          median      p10      p90   (ms)');
for (const name of names) {
  const { median, p10, p90 } = summary[name];
  console.log(`${labels[name].padEnd(31)} ${f(median)}  ${f(p10)}  ${f(p90)}`);
}
const verdict = (limit) => `≤ ${limit.toFixed(2)}× ${ratio <= limit ? 'MET' : 'NOT MET'}`;
console.log(`ratio of medians: ${ratio.toFixed(2)}×  (requirement ${verdict(1.6)}; goal ${verdict(1.15)})`);
let ratioNoCompileCache;
if (hasCompileCache) {
  ratioNoCompileCache = summary.loginNoCompileCache.median / summary.node.median;
  console.log(`ratio with the compile cache off: ${ratioNoCompileCache.toFixed(2)}×`);
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({ node: process.version, summary, ratio, ratioNoCompileCache, samples }, null, 2),
  );
