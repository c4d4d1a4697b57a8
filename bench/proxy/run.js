import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadConfigFile } from '../../dist/config/index.js';
import { pinning, pinSelf } from '../lib/cpu-pinning.js';
import { runFixedRate } from '../lib/fixed-rate.js';
import { createBenchPKI } from '../lib/pki.js';
import { startRedis } from '../lib/redis-process.js';
import { cpuSeconds, startServerProcess } from '../lib/server-process.js';
import { mintTokens } from '../verifier/tokens.js';
import { adminCall, httpsCall, startControlPlane } from './control-plane.js';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const ROUND_SECONDS = Number(env.BENCH_ROUND_SECONDS ?? 8);
const RATE = Number(env.BENCH_RATE ?? 500);
const FIXED_SECONDS = Number(env.BENCH_FIXED_SECONDS ?? 10);
const PIN = pinning && env.BENCH_PIN !== '0';
const TOKENS = 200;
const CONNECTIONS = 16;
const AUDIENCE = 'https://prod.example.com';
const READ = '/api/v1/namespaces/default/pods';
const SERVER_CORE = 0;
const LOAD_CORE = 1;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function fmt(n, digits = 2) {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

async function must(call, what) {
  const answer = await call;
  if (answer.status >= 300) throw new Error(`${what}: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body);
}

/** The proxy's service account, its impersonate-only ClusterRole, and a pod-reading Role for `oidc:dev`. */
async function prepareCluster(plane) {
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await must(
    adminCall(plane, 'POST', '/api/v1/namespaces/default/serviceaccounts', {
      metadata: { name: 'kob-proxy' },
    }),
    'service account',
  );
  await must(
    adminCall(plane, 'POST', `${rbac}/clusterroles`, {
      metadata: { name: 'kob-proxy-impersonate' },
      rules: [
        { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['uids'], verbs: ['impersonate'] },
      ],
    }),
    'cluster role',
  );
  await must(
    adminCall(plane, 'POST', `${rbac}/clusterrolebindings`, {
      metadata: { name: 'kob-proxy-impersonate' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kob-proxy-impersonate' },
      subjects: [{ kind: 'ServiceAccount', name: 'kob-proxy', namespace: 'default' }],
    }),
    'cluster role binding',
  );
  // Not the aggregated `view` ClusterRole: its rules are filled in by the controller manager, absent here.
  await must(
    adminCall(plane, 'POST', `${rbac}/namespaces/default/roles`, {
      metadata: { name: 'pod-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    }),
    'role',
  );
  await must(
    adminCall(plane, 'POST', `${rbac}/namespaces/default/rolebindings`, {
      metadata: { name: 'oidc-dev-reads-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'oidc:dev' }],
    }),
    'role binding',
  );
  const token = await must(
    adminCall(plane, 'POST', '/api/v1/namespaces/default/serviceaccounts/kob-proxy/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 7200 },
    }),
    'token request',
  );
  return token.status.token;
}

/** What the apiserver believes the proxied person is (a SelfSubjectReview through the proxy). */
async function proxiedIdentity(url, ca, token) {
  const answer = await httpsCall(
    `${url}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
    {
      method: 'POST',
      ca,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    },
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  );
  if (answer.status !== 201) throw new Error(`selfsubjectreview: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body).status.userInfo;
}

/** The headers the proxy sends for `user` (the apiserver adds system:authenticated by itself). */
function impersonationHeaders(user) {
  const headers = { 'Impersonate-User': user.username };
  if (user.uid) headers['Impersonate-Uid'] = user.uid;
  const groups = (user.groups ?? []).filter((g) => g !== 'system:authenticated');
  if (groups.length > 0) headers['Impersonate-Group'] = groups;
  for (const [key, values] of Object.entries(user.extra ?? {})) {
    headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
  }
  return headers;
}

/**
 * autocannon writes an array header as one comma-joined line; the apiserver reads one group per
 * `Impersonate-Group` line. Header names are case-insensitive, so each further value goes under a
 * differently cased spelling of the name, which autocannon writes as a line of its own.
 */
function oneLinePerValue(headers) {
  const lines = {};
  for (const [name, value] of Object.entries(headers)) {
    const values = Array.isArray(value) ? value : [value];
    values.forEach((v, i) => {
      const spelling = [...name]
        .map((c, j) => (j < 31 && (i >> j) & 1 ? c.toUpperCase() : c.toLowerCase()))
        .join('');
      lines[i === 0 ? name : spelling] = v;
    });
  }
  return lines;
}

function startProxy(configFile) {
  return startServerProcess('proxy', [join(here, 'proxy-process.js'), configFile], {
    core: PIN ? SERVER_CORE : undefined,
  });
}

/**
 * One autocannon round; also the CPU time the proxy and the apiserver spent per request in it: on a
 * busy shared machine req/s swing with the neighbours, CPU per request much less.
 */
async function throughput(path, pids = {}) {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const result = await autocannon({
    url: path.url,
    connections: CONNECTIONS,
    duration: ROUND_SECONDS,
    requests: path.requests,
    tlsOptions: path.tls,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${path.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  }
  const cpuMsPerRequest = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [
      k,
      ((cpuSeconds(pid) - before[k]) * 1000) / result.requests.total,
    ]),
  );
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpuMsPerRequest };
}

async function main() {
  if (PIN) pinSelf(LOAD_CORE);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'kob-bench-proxy-'));
  mkdirSync(join(dir, 'cluster'));
  mkdirSync(join(dir, 'pki'));
  const redis = await startRedis(LOAD_CORE);
  let plane;
  let proxy;
  try {
    plane = await startControlPlane(join(dir, 'cluster'));
    const saToken = await prepareCluster(plane);
    const pki = createBenchPKI(join(dir, 'pki'));
    const kubeconfig = join(dir, 'upstream.kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: plane.url, 'certificate-authority': plane.caFile } }],
        users: [{ name: 'proxy', user: { token: saToken } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'proxy' } }],
        'current-context': 'c',
      }),
    );
    const configFile = join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      [
        'store:',
        `  redis: { url: "${redis.url}", keyPrefix: "kob-bench:" }`,
        'proxy:',
        '  listen: 127.0.0.1:0',
        `  tls: { cert: "${pki.serverCertFile}", key: "${pki.serverKeyFile}" }`,
        `  audiences: ["${AUDIENCE}"]`,
        `  upstream: { kubeconfig: "${kubeconfig}" }`,
        'mapping:',
        '  claimMappings:',
        '    username: { claim: email, prefix: "" }',
        '    groups: { claim: groups, prefix: "oidc:" }',
        'logging: { level: info }',
        '',
      ].join('\n'),
    );
    const config = loadConfigFile(configFile, {});
    const tokens = await mintTokens(config, AUDIENCE, TOKENS);
    proxy = await startProxy(configFile);

    const direct = {
      name: 'direct',
      url: plane.url,
      tls: { ca: plane.ca, ...plane.admin },
      requests: [{ method: 'GET', path: READ }],
      headersOf: () => ({}),
    };
    const proxied = {
      name: 'proxy',
      url: proxy.url,
      tls: { ca: pki.clientTLS.ca },
      requests: tokens.map((t) => ({ method: 'GET', path: READ, headers: { authorization: `Bearer ${t}` } })),
      headersOf: (i) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` }),
    };
    // The identity the proxy forwards for token 0, as the apiserver saw it: the third path sends the
    // same Impersonate-* headers with the admin's client certificate, so the apiserver's own cost of
    // impersonation (an authorization check per header) is measured apart from the proxy's hop.
    const seen = await proxiedIdentity(proxy.url, pki.clientTLS.ca, tokens[0]);
    const impersonating = {
      ...direct,
      name: 'impersonating',
      headersOf: () => impersonationHeaders(seen),
    };
    impersonating.requests = [
      { method: 'GET', path: READ, headers: oneLinePerValue(impersonationHeaders(seen)) },
    ];
    const paths = [direct, impersonating, proxied];
    for (const path of paths) {
      // The apiserver's RBAC informers pick the new bindings up within moments.
      for (let attempt = 0; ; attempt++) {
        const answer = await httpsCall(`${path.url}${READ}`, { ...path.tls, headers: path.headersOf(0) });
        if (answer.status === 200) break;
        if (attempt === 50) throw new Error(`${path.name}: ${answer.status} ${answer.body}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    console.error(`both paths answer 200; pinning: ${PIN}`);

    for (const path of paths) await throughput({ ...path }); // warm-up, not measured
    const rounds = { direct: [], impersonating: [], proxy: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const path of r % 2 === 0 ? paths : [...paths].reverse()) {
        const result = await throughput(path, { proxy: proxy.pid, apiserver: plane.pids()[0] });
        rounds[path.name].push(result);
        console.error(`round ${r + 1} ${path.name}: ${Math.round(result.rps)} req/s`);
      }
    }

    // Fixed-rate latency in interleaved rounds (the tail of one 10 s window on a shared 2-core machine
    // is mostly its neighbours); the median of the rounds' p50 and p99 per path is reported.
    const fixedRounds = { direct: [], impersonating: [], proxy: [] };
    const fixedRate = (path, durationMs) =>
      runFixedRate({
        url: `${path.url}${READ}`,
        method: 'GET',
        rate: RATE,
        warmupMs: 2000,
        durationMs,
        connections: CONNECTIONS,
        headers: {},
        headersOf: path.headersOf,
        tls: path.tls,
        onMeasureStart: () => (path.name === 'proxy' ? proxy.startLoopDelay() : undefined),
      });
    for (const path of paths) await fixedRate(path, 2000);
    for (let r = 0; r < ROUNDS; r++) {
      for (const path of r % 2 === 0 ? paths : [...paths].reverse()) {
        const f = await fixedRate(path, FIXED_SECONDS * 1000);
        if (f.errors + f.non200 + f.lost > 0) {
          throw new Error(
            `${path.name} at ${RATE} req/s: ${f.errors} errors, ${f.non200} non-200, ${f.lost} lost`,
          );
        }
        if (path.name === 'proxy') f.serverLoopDelay = await proxy.readLoopDelay();
        fixedRounds[path.name].push(f);
      }
    }
    const fixed = Object.fromEntries(
      Object.entries(fixedRounds).map(([name, list]) => [
        name,
        { p50: median(list.map((f) => f.p50)), p99: median(list.map((f) => f.p99)), all: list },
      ]),
    );
    const rss = proxy.rssMB();
    const cpu = (name, process) => median(rounds[name].map((x) => x.cpuMsPerRequest[process]));

    const rps = Object.fromEntries(
      Object.entries(rounds).map(([name, list]) => [name, median(list.map((x) => x.rps))]),
    );
    const ratio = rps.proxy / rps.direct;
    const added = (from, to) => ({
      p50: fixed[to].p50 - fixed[from].p50,
      p99: fixed[to].p99 - fixed[from].p99,
    });
    const total = added('direct', 'proxy');
    const hop = added('impersonating', 'proxy');
    const impersonation = added('direct', 'impersonating');
    const p99s = (name) => fixed[name].all.map((f) => fmt(f.p99)).join(', ');
    console.log(
      [
        `| path | req/s (max, median) | p50 @${RATE}/s | p99 @${RATE}/s | p99 per round |`,
        '|---|---|---|---|---|',
        `| direct (client certificate) | ${Math.round(rps.direct)} | ${fmt(fixed.direct.p50)} ms | ${fmt(fixed.direct.p99)} ms | ${p99s('direct')} |`,
        `| direct, same Impersonate-* headers | ${Math.round(rps.impersonating)} | ${fmt(fixed.impersonating.p50)} ms | ${fmt(fixed.impersonating.p99)} ms | ${p99s('impersonating')} |`,
        `| through the proxy (kob_ token) | ${Math.round(rps.proxy)} | ${fmt(fixed.proxy.p50)} ms | ${fmt(fixed.proxy.p99)} ms | ${p99s('proxy')} |`,
        '',
        `throughput ratio proxy/direct: ${fmt(ratio)} (target ≥ 0.80) ${ratio >= 0.8 ? 'MET' : 'MISSED'}; proxy/impersonating direct: ${fmt(rps.proxy / rps.impersonating)}`,
        `added latency at ${RATE} req/s, proxy vs direct: p50 ${fmt(total.p50)} ms, p99 ${fmt(total.p99)} ms (target p99 ≤ 2 ms) ${total.p99 <= 2 ? 'MET' : 'MISSED'}`,
        `  of which the apiserver's impersonation checks (impersonating vs direct): p50 ${fmt(impersonation.p50)} ms, p99 ${fmt(impersonation.p99)} ms`,
        `  and the proxy's own hop (proxy vs impersonating): p50 ${fmt(hop.p50)} ms, p99 ${fmt(hop.p99)} ms`,
        `event-loop delay p99 per round (ms): proxy ${fixed.proxy.all.map((f) => fmt(f.serverLoopDelay.p99)).join(', ')}; load generator ${paths.map((p) => `${p.name} ${fixed[p.name].all.map((f) => fmt(f.clientLoopDelay.p99)).join('/')}`).join(', ')}`,
        `p99 from a request leaving the load generator to its response's end, per round (ms): ${paths.map((p) => `${p.name} ${fixed[p.name].all.map((f) => fmt(f.afterSendP99)).join('/')}`).join(', ')}; sent late p99: ${paths.map((p) => `${p.name} ${fixed[p.name].all.map((f) => fmt(f.sendLagP99)).join('/')}`).join(', ')}`,
        `proxy RSS after the run: ${fmt(rss, 0)} MB`,
        `CPU per request (median of rounds): proxy ${fmt(cpu('proxy', 'proxy'), 3)} ms; apiserver ${fmt(cpu('direct', 'apiserver'), 3)} ms direct, ${fmt(cpu('impersonating', 'apiserver'), 3)} ms impersonating, ${fmt(cpu('proxy', 'apiserver'), 3)} ms through the proxy`,
        `per-round req/s direct: ${rounds.direct.map((x) => Math.round(x.rps)).join(', ')}; impersonating: ${rounds.impersonating.map((x) => Math.round(x.rps)).join(', ')}; proxy: ${rounds.proxy.map((x) => Math.round(x.rps)).join(', ')}`,
        `rounds: ${ROUNDS} × ${ROUND_SECONDS} s max-throughput and ${ROUNDS} × ${FIXED_SECONDS} s at ${RATE} req/s per path, interleaved; ${CONNECTIONS} connections; ${TOKENS} tokens; node ${process.version}; ${PIN ? 'proxy on core 0, load + Redis on core 1, apiserver + etcd unpinned' : 'proxy, load and apiserver NOT pinned (Redis on core 1)'}; ${Math.round((Date.now() - started) / 1000)} s`,
      ].join('\n'),
    );
  } finally {
    await proxy?.stop();
    await plane?.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
