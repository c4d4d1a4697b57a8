// Cold start of the verifier: `npm run build && node bench/verifier/cold-start.js`. See docs/benchmarks.md.
//
// Spawns `kube-oidc-bridge serve` (the built binary, verifier role only, Redis store, plain HTTP on a
// fixed free port) and times from the spawn to the first `authenticated: true` answer, polling every
// 2 ms. RUNS runs (default 9), median and range; `node -e 0` measured the same way for reference.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../dist/config/index.js';
import { freePort, startRedis } from '../lib/redis-process.js';
import { writeVerifierConfig } from '../lib/verifier-config.js';
import { mintTokens } from './tokens.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'bin', 'kube-oidc-bridge.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const AUDIENCE = 'https://kubernetes.default.svc';

function review(port, token) {
  const body = `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1beta1","metadata":{},"spec":{"token":"${token}","audiences":["${AUDIENCE}"]},"status":{"user":{}}}`;
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/authenticate', method: 'POST', agent: false },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () =>
          resolve(res.statusCode === 200 && JSON.parse(text).status?.authenticated === true),
        );
      },
    );
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function coldStart(configFile, port, token) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [bin, 'serve', '--config', configFile], { stdio: 'ignore' });
  try {
    while (!(await review(port, token))) {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

function nodeBare() {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', '0']);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kob-cold-'));
  const redis = await startRedis(1);
  try {
    const port = await freePort();
    const configFile = join(dir, 'config.yaml');
    writeVerifierConfig(configFile, {
      redis: `url: "${redis.url}", keyPrefix: "kob-bench:"`,
      audience: AUDIENCE,
      listen: `127.0.0.1:${port}`,
      logLevel: 'warn',
    });
    const [token] = await mintTokens(loadConfigFile(configFile, {}), AUDIENCE, 1);
    const serve = [];
    const bare = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(nodeBare());
      serve.push(await coldStart(configFile, port, token));
    }
    const fmt = (v) => `${v.toFixed(0)} ms`;
    console.log(
      `node -e 0: median ${fmt(median(bare))} (${fmt(Math.min(...bare))}–${fmt(Math.max(...bare))})`,
    );
    console.log(
      `serve → first authenticated:true: median ${fmt(median(serve))} (${fmt(Math.min(...serve))}–${fmt(Math.max(...serve))}), ${RUNS} runs`,
    );
    console.log(`load average: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`);
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
