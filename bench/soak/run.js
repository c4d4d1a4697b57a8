// Soak and fault suite for the verifier: `npm run build && node bench/soak/run.js SCENARIO`.
// Not part of `npm test`. Scenarios and results: docs/operations.md "Soak and fault results".
//
//   steady          SOAK_SECONDS (600) at SOAK_RATE (1000) req/s, every answer checked
//   redis-sigstop   Redis frozen (SIGSTOP) for FAULT_SECONDS (10), then thawed
//   redis-kill      Redis killed (SIGKILL) without persistence, restarted after FAULT_SECONDS: comes back empty
//   redis-kill-aof  the same with AOF (appendfsync always): comes back with its data
//
// Traffic mixes valid, revoked, unknown and wrong-audience tokens. Printed per scenario: load held,
// answers during the fault by status, false accepts (authenticated:true where it must not be), false
// denials after recovery (a valid token denied without `error`), recovery time (fault end → first valid
// token accepted), verifier RSS start → end.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../dist/config/index.js';
import { createStore } from '../../dist/store/index.js';
import { TokenService } from '../../dist/tokens/index.js';
import { freePort } from '../lib/redis-process.js';
import { mintTokens } from '../verifier/tokens.js';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const SCENARIO = process.argv[2] ?? 'steady';
const RATE = Number(env.SOAK_RATE ?? 1000);
const FAULT_SECONDS = Number(env.FAULT_SECONDS ?? 10);
const AUDIENCE = 'https://kubernetes.default.svc';
const PLAN = {
  steady: { before: Number(env.SOAK_SECONDS ?? 600), fault: 0, after: 0 },
  'redis-sigstop': { before: 20, fault: FAULT_SECONDS, after: 20 },
  'redis-kill': { before: 20, fault: FAULT_SECONDS, after: 20 },
  'redis-kill-aof': { before: 20, fault: FAULT_SECONDS, after: 20 },
}[SCENARIO];
if (!PLAN) throw new Error(`unknown scenario ${SCENARIO}`);

/** A redis-server that can be frozen, killed and restarted on the same port and folder. */
async function redisServer(aof) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kob-soak-redis-'));
  let child;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push(...(aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  async function start() {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    for (;;) {
      const ok = await new Promise((resolve) => {
        const r = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        r.stdout.on('data', (d) => {
          out += d;
        });
        r.on('exit', () => resolve(out.startsWith('PONG')));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    signal: (s) => child.kill(s),
    async kill() {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    start,
    async stop() {
      child.kill('SIGCONT');
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rssMB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return line ? Math.round(Number(line[1]) / 1024) : Number.NaN;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kob-soak-'));
  const redis = await redisServer(SCENARIO === 'redis-kill-aof');
  let verifier;
  try {
    const configFile = join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      [
        'store:',
        `  redis: { url: "${redis.url}", keyPrefix: "kob-soak:", connectTimeout: 1, commandTimeout: 1 }`,
        'verifier:',
        '  listen: 127.0.0.1:0',
        '  insecureHTTP: true',
        `  audiences: ["${AUDIENCE}"]`,
        'mapping:',
        '  claimMappings:',
        '    username: { claim: email, prefix: "" }',
        '    groups: { claim: groups, prefix: "oidc:" }',
        'logging: { level: warn }',
        '',
      ].join('\n'),
    );
    const config = loadConfigFile(configFile, {});
    const valid = await mintTokens(config, AUDIENCE, 200);
    const doomed = await mintTokens(config, AUDIENCE, 100);
    const store = createStore(config.store, { clock: { now: () => Math.floor(Date.now() / 1000) } });
    const service = new TokenService({
      store,
      clock: { now: () => Math.floor(Date.now() / 1000) },
      config: config.tokens,
    });
    for (const token of doomed) await service.revokeAccessToken(token);
    await store.close();
    const unknown = Array.from(
      { length: 100 },
      (_, i) => `kob_${'x'.repeat(43)}${String(i).padStart(6, '0')}`,
    );

    verifier = spawn(process.execPath, [join(here, '..', 'verifier', 'verifier-process.js'), configFile], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const [{ url }] = await once(verifier, 'message');
    const rssStart = rssMB(verifier.pid);

    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const kinds = ['valid', 'revoked', 'unknown', 'audience'];
    const stats = { sent: 0, done: 0, phase: 'before', byPhase: {}, falseAccepts: 0, falseDenialsAfter: 0 };
    let faultEnd;
    let recoveredAt;
    // Answers are filed under the phase their request was sent in.
    const bump = (phase, key) => {
      stats.byPhase[phase] ??= {};
      const p = stats.byPhase[phase];
      p[key] = (p[key] ?? 0) + 1;
    };
    function fire(i) {
      const kind = kinds[i % 4];
      const token =
        kind === 'valid' || kind === 'audience'
          ? valid[i % valid.length]
          : kind === 'revoked'
            ? doomed[i % doomed.length]
            : unknown[i % unknown.length];
      const audience = kind === 'audience' ? 'https://other-cluster' : AUDIENCE;
      const body = `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":"${token}","audiences":["${audience}"]}}`;
      stats.sent++;
      const phase = stats.phase;
      const req = request(`${url}/authenticate`, { method: 'POST', agent, timeout: 5000 }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          stats.done++;
          if (res.statusCode !== 200) return bump(phase, String(res.statusCode));
          const status = JSON.parse(text).status;
          if (status.authenticated && kind !== 'valid') stats.falseAccepts++;
          if (kind === 'valid' && status.authenticated && faultEnd && !recoveredAt) recoveredAt = Date.now();
          if (kind === 'valid' && !status.authenticated && !status.error && stats.phase === 'after')
            stats.falseDenialsAfter++;
          bump(
            phase,
            status.authenticated ? '200 accepted' : status.error ? '200 denied+error' : '200 denied',
          );
        });
      });
      req.on('error', () => bump(phase, 'transport error'));
      req.on('timeout', () => req.destroy());
      req.end(body);
    }

    const started = Date.now();
    let i = 0;
    const ticker = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * RATE);
      while (i < due) fire(i++);
    }, 5);
    const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
    await sleep(PLAN.before);
    if (PLAN.fault > 0) {
      stats.phase = 'fault';
      if (SCENARIO === 'redis-sigstop') {
        redis.signal('SIGSTOP');
        await sleep(PLAN.fault);
        redis.signal('SIGCONT');
      } else {
        await redis.kill();
        await sleep(PLAN.fault);
        await redis.start();
      }
      faultEnd = Date.now();
      stats.phase = 'after';
      await sleep(PLAN.after);
    }
    clearInterval(ticker);
    const seconds = (Date.now() - started) / 1000;
    await sleep(2);
    const rssEnd = rssMB(verifier.pid);
    agent.destroy();
    console.log(`scenario ${SCENARIO}: ${seconds.toFixed(0)} s at ${RATE} req/s offered`);
    console.log(`load held: ${(stats.done / seconds).toFixed(0)} answers/s (${stats.done} of ${stats.sent})`);
    for (const [phase, counts] of Object.entries(stats.byPhase))
      console.log(`  ${phase}: ${JSON.stringify(counts)}`);
    console.log(`false accepts: ${stats.falseAccepts}`);
    console.log(`false denials after recovery: ${stats.falseDenialsAfter}`);
    if (faultEnd)
      console.log(
        `recovery: ${recoveredAt ? `${recoveredAt - faultEnd} ms` : 'no valid token accepted after the fault'}`,
      );
    console.log(`verifier RSS: ${rssStart} MB → ${rssEnd} MB`);
    console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  } finally {
    if (verifier && verifier.exitCode === null) {
      const exited = once(verifier, 'exit');
      verifier.kill('SIGTERM');
      await exited;
    }
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
