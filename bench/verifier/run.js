import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadConfigFile } from '../../dist/config/index.js';
import { pinning, pinSelf } from '../lib/cpu-pinning.js';
import { runFixedRate } from '../lib/fixed-rate.js';
import { createBenchPKI } from '../lib/pki.js';
import { startRedis } from '../lib/redis-process.js';
import { startServerProcess } from '../lib/server-process.js';
import { writeVerifierConfig } from '../lib/verifier-config.js';
import { summariseProfiles } from './profile-summary.js';
import { mintTokens } from './tokens.js';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const ROUND_SECONDS = Number(env.BENCH_ROUND_SECONDS ?? 8);
const RATE = Number(env.BENCH_RATE ?? 2000);
const PROFILE = env.BENCH_PROFILE === '1';
const MTLS = env.BENCH_TRANSPORT === 'mtls';
/** p99 at RATE: 5 ms over plain HTTP, 3 ms over mTLS (docs/benchmarks.md). */
const P99_TARGET_MS = MTLS ? 3 : 5;
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'info';
const TOKENS = 1000;
const CONNECTIONS = 32;
const AUDIENCE = 'https://kubernetes.default.svc';
const REVIEW_PATH = '/authenticate?timeout=30s';
const SERVER_CORE = 0;
const LOAD_CORE = 1;

/** The bytes a 1.34+ apiserver sends with the default webhook version (v1beta1). */
function reviewBody(token) {
  return `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1beta1","metadata":{},"spec":{"token":"${token}","audiences":["${AUDIENCE}"]},"status":{"user":{}}}\n`;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Starts a server script of this folder in its own process on the server core. */
function startProcess(name, script, args, nodeArgs = []) {
  return startServerProcess(name, [join(here, script), ...args], { core: SERVER_CORE, nodeArgs });
}

/** POSTs one review and resolves with the HTTP status and parsed answer. */
function postReview(url, body, tls) {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, ...tls });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function checkAnswer(server, token, tls) {
  const { status, body } = await postReview(server.url + REVIEW_PATH, reviewBody(token), tls);
  if (status !== 200 || body.status?.authenticated !== true) {
    throw new Error(`${server.name} did not authenticate a valid token: ${status} ${JSON.stringify(body)}`);
  }
  return body.status.user;
}

async function maxThroughput(server, requests, seconds, tls) {
  const cpuBefore = server.cpuSeconds();
  const result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: seconds,
    requests,
    ...(tls ? { tlsOptions: tls } : {}),
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `${server.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`,
    );
  }
  // Below ~95 % the load generator, not the server, was the limit: the round would flatter the server.
  // Requests per CPU-second of the server is the same figure with the noise of a shared machine
  // removed: what the server would do alone on a dedicated core.
  const cpu = server.cpuSeconds() - cpuBefore;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    busy: cpu / result.duration,
    perCpuSecond: result.requests.total / cpu,
  };
}

function fmt(n, digits = 2) {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

async function main() {
  pinSelf(LOAD_CORE);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'kob-bench-'));
  const redis = env.BENCH_REDIS_URL
    ? { url: env.BENCH_REDIS_URL, stop: async () => {} }
    : await startRedis(LOAD_CORE);
  const servers = [];
  try {
    // A minimal production-shaped verifier config; plain HTTP unless BENCH_TRANSPORT=mtls (docs/benchmarks.md).
    let pki;
    if (MTLS) {
      mkdirSync(join(dir, 'pki'));
      pki = createBenchPKI(join(dir, 'pki'));
    }
    const tls = pki?.clientTLS;
    const configFile = join(dir, 'config.yaml');
    writeVerifierConfig(configFile, {
      redis: `url: "${redis.url}", keyPrefix: "kob-bench:"`,
      audience: AUDIENCE,
      tls: MTLS ? { cert: pki.serverCertFile, key: pki.serverKeyFile, clientCA: pki.caFile } : undefined,
      logLevel: LOG_LEVEL,
    });
    const config = loadConfigFile(configFile, {});
    const tokens = await mintTokens(config, AUDIENCE, TOKENS);

    const profileDir = join(dir, 'profile');
    const verifier = await startProcess(
      'verifier',
      'verifier-process.js',
      [configFile],
      PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    );
    servers.push(verifier);
    const baseline = await startProcess('baseline', 'baseline-process.js', [
      redis.url,
      'kob-bench:',
      ...(MTLS ? [pki.serverCertFile, pki.serverKeyFile, pki.caFile] : []),
    ]);
    servers.push(baseline);
    const verifierUser = await checkAnswer(verifier, tokens[0], tls);
    await checkAnswer(baseline, tokens[0], tls);
    console.error(
      `verifier maps token 0 to ${verifierUser.username} ${JSON.stringify(verifierUser.groups)}; pinning: ${pinning}`,
    );

    const requests = tokens.map((token) => ({
      method: 'POST',
      path: REVIEW_PATH,
      headers: { 'content-type': 'application/json' },
      body: reviewBody(token),
    }));

    // Warm-up (JIT, connection pools), not measured.
    for (const server of servers) await maxThroughput(server, requests, 3, tls);

    const rounds = { verifier: [], baseline: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [baseline, verifier] : [verifier, baseline];
      for (const server of order) {
        const result = await maxThroughput(server, requests, ROUND_SECONDS, tls);
        rounds[server.name].push(result);
        console.error(
          `round ${r + 1} ${server.name}: ${Math.round(result.rps)} req/s, server core busy ${Math.round(result.busy * 100)} %`,
        );
      }
    }

    const fixed = {};
    const fixedRate = (server, durationMs) =>
      runFixedRate({
        url: server.url + REVIEW_PATH,
        rate: RATE,
        warmupMs: 2000,
        durationMs,
        connections: CONNECTIONS,
        headers: { 'content-type': 'application/json' },
        body: (i) => reviewBody(tokens[i % tokens.length]),
        tls,
        onMeasureStart: () => server.startLoopDelay(),
      });
    for (const server of [baseline, verifier]) {
      // A first fixed-rate pass in a fresh client falls seconds behind its schedule (cold client code
      // and connection pool) and would be charged to the server: run one, unmeasured, first.
      await fixedRate(server, 2000);
      fixed[server.name] = await fixedRate(server, 10_000);
      const f = fixed[server.name];
      f.serverLoopDelay = await server.readLoopDelay();
      if (f.errors + f.non200 + f.lost > 0) {
        throw new Error(
          `${server.name} at ${RATE} req/s: ${f.errors} errors, ${f.non200} non-200, ${f.lost} lost`,
        );
      }
    }
    const rss = { verifier: verifier.rssMB(), baseline: baseline.rssMB() };

    const summary = {};
    for (const name of ['baseline', 'verifier']) {
      summary[name] = {
        rps: median(rounds[name].map((x) => x.rps)),
        p50: median(rounds[name].map((x) => x.p50)),
        p99: median(rounds[name].map((x) => x.p99)),
        busy: median(rounds[name].map((x) => x.busy)),
        perCpuSecond: median(rounds[name].map((x) => x.perCpuSecond)),
        fixed: fixed[name],
        rss: rss[name],
      };
    }
    const ratio = summary.verifier.rps / summary.baseline.rps;
    const cpuRatio = summary.verifier.perCpuSecond / summary.baseline.perCpuSecond;

    const rows = [
      [
        '',
        'req/s (max, median)',
        'server CPU',
        'req per CPU-s',
        'p50 @max',
        'p99 @max',
        `p50 @${RATE}/s`,
        `p99 @${RATE}/s`,
        'RSS after',
      ],
      ...['baseline', 'verifier'].map((name) => {
        const s = summary[name];
        return [
          name,
          String(Math.round(s.rps)),
          `${Math.round(s.busy * 100)} %`,
          String(Math.round(s.perCpuSecond)),
          `${s.p50} ms`,
          `${s.p99} ms`,
          `${fmt(s.fixed.p50)} ms`,
          `${fmt(s.fixed.p99)} ms`,
          `${fmt(s.rss, 0)} MB`,
        ];
      }),
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
    const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
    const output = [
      line(rows[0]),
      `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
      ...rows.slice(1).map(line),
      '',
      `transport: ${MTLS ? 'HTTPS with client certificates (mTLS)' : 'plain HTTP'}; verifier log level: ${LOG_LEVEL}; rounds: ${ROUNDS} × ${ROUND_SECONDS} s per server, interleaved; ${CONNECTIONS} connections; ${TOKENS} tokens spread uniformly`,
      `throughput ratio verifier/baseline: ${fmt(ratio)} (target ≥ 0.90) ${ratio >= 0.9 ? 'MET' : 'MISSED'}`,
      `same ratio per CPU-second of the server core: ${fmt(cpuRatio)}`,
      `verifier p99 at ${RATE} req/s offered: ${fmt(summary.verifier.fixed.p99)} ms (target ≤ ${P99_TARGET_MS} ms) ${summary.verifier.fixed.p99 <= P99_TARGET_MS ? 'MET' : 'MISSED'}`,
      ...['baseline', 'verifier'].map((name) => {
        const f = summary[name].fixed;
        return `  ${name} at ${RATE} req/s: p99 ${fmt(f.p99)} ms, max ${fmt(f.max)} ms; event-loop delay p99/max: server ${fmt(f.serverLoopDelay.p99)}/${fmt(f.serverLoopDelay.max)} ms, load generator ${fmt(f.clientLoopDelay.p99)}/${fmt(f.clientLoopDelay.max)} ms; requests sent late by the load generator: p99 ${fmt(f.sendLagP99)} ms; p99 from send to response end ${fmt(f.afterSendP99)} ms; connections opened while measuring: ${f.connectionsOpened}`;
      }),
      `verifier RSS after the run: ${fmt(summary.verifier.rss, 0)} MB (target < 150 MB) ${summary.verifier.rss < 150 ? 'MET' : 'MISSED'}`,
      `per-round verifier req/s: ${rounds.verifier.map((x) => Math.round(x.rps)).join(', ')}; baseline: ${rounds.baseline.map((x) => Math.round(x.rps)).join(', ')}`,
      `node ${process.version}, ${pinning ? 'servers pinned to core 0, load + Redis on core 1' : 'NOT pinned'}, ${Math.round((Date.now() - started) / 1000)} s`,
    ];
    console.log(output.join('\n'));

    if (PROFILE) {
      await verifier.stop();
      const profile = summariseProfiles(profileDir);
      console.log(`\nverifier CPU profile (${Math.round(profile.busyMs)} ms busy), self time by area:`);
      for (const a of profile.areas) console.log(`  ${fmt(a.share * 100, 1).padStart(5)} %  ${a.name}`);
      console.log('top functions by self time:');
      for (const f of profile.functions) console.log(`  ${fmt(f.share * 100, 1).padStart(5)} %  ${f.name}`);
      console.log('project functions by inclusive time (own code + what they call):');
      for (const f of profile.inclusive) console.log(`  ${fmt(f.share * 100, 1).padStart(5)} %  ${f.name}`);
    }
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
