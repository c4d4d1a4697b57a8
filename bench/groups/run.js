import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadConfigFile } from '../../dist/config/index.js';
import { systemClock } from '../../dist/core/clock.js';
import { createLogger } from '../../dist/core/logger.js';
import { resolveUpstreamGroups } from '../../dist/directory/index.js';
import { createStore } from '../../dist/store/index.js';
import { TokenService } from '../../dist/tokens/index.js';
import { pinning, pinSelf } from '../lib/cpu-pinning.js';
import { startRedis } from '../lib/redis-process.js';
import { startServerProcess } from '../lib/server-process.js';
import { writeVerifierConfig } from '../lib/verifier-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 5);
const AUDIENCE = 'https://kubernetes.default.svc';
const TOKENS = 200;

const directoryGroups = Array.from({ length: 5000 }, (_, i) =>
  i % 500 === 0 ? `k8s-team-${i / 500}` : `dir-group-${String(i).padStart(5, '0')}`,
);

/** What the issuer stores for each population (claims after the group lookups). */
async function claimsFor(population, n) {
  const base = { sub: `sub-${n}`, email: `user${n}@example.com`, email_verified: true };
  if (population === 'five') return { ...base, groups: ['dev', 'ops', 'qa', 'sre', `team-${n % 10}`] };
  const filter = population === 'filtered' ? { prefixes: ['k8s-'] } : undefined;
  const { claims } = await resolveUpstreamGroups(
    { fetch, verifyJwt: () => Promise.reject(new Error('unused')), nowMs: Date.now, sleep: async () => {} },
    {
      settings: {
        claim: 'groups',
        distributedClaims: false,
        from: 'token',
        when: 'overage',
        filter,
        maxGroups: 5000,
        timeout: 10,
      },
      wanted: ['groups'],
      claims: { ...base, groups: directoryGroups },
      directSource: 'token',
    },
  );
  return claims;
}

async function mint(config, population) {
  const store = createStore(config.store, { clock: systemClock, logger: createLogger({ level: 'warn' }) });
  const service = new TokenService({ store, clock: systemClock, config: config.tokens });
  const tokens = [];
  try {
    for (let n = 0; n < TOKENS; n++) {
      const claims = await claimsFor(population, n);
      const session = await service.createSession({
        identity: { kind: 'claims', upstream: 'bench', claims },
        username: claims.email,
        source: 'admin',
        description: 'benchmark',
      });
      tokens.push((await service.issueAccessToken(session, [AUDIENCE])).token);
    }
  } finally {
    await store.close();
  }
  return tokens;
}

function review(url, tokens) {
  let i = 0;
  return autocannon({
    url,
    connections: 16,
    duration: ROUND_SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/authenticate',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          body: `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":"${tokens[i++ % tokens.length]}","audiences":["${AUDIENCE}"]},"status":{"user":{}}}`,
        }),
      },
    ],
  });
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

pinSelf(1);
const dir = mkdtempSync(join(tmpdir(), 'kob-bench-groups-'));
const redis = await startRedis(1);
let verifier;
try {
  const configFile = join(dir, 'config.yaml');
  writeVerifierConfig(configFile, {
    redis: `url: "${redis.url}", keyPrefix: "kob-bench:"`,
    audience: AUDIENCE,
  });
  const config = loadConfigFile(configFile, {});
  const populations = {
    five: await mint(config, 'five'),
    filtered: await mint(config, 'filtered'),
    unfiltered: await mint(config, 'unfiltered'),
  };
  verifier = await startServerProcess(
    'verifier',
    [join(here, '..', 'verifier', 'verifier-process.js'), configFile],
    {
      core: 0,
    },
  );
  const { url } = verifier;
  await review(url, populations.five); // warm-up, not measured
  const results = { five: [], filtered: [], unfiltered: [] };
  const p99 = { five: [], filtered: [], unfiltered: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(results)) {
      const r = await review(url, populations[name]);
      if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      results[name].push(r.requests.average);
      p99[name].push(r.latency.p99);
    }
  }
  const rss = verifier.rssMB();
  const base = median(results.five);
  console.log(
    `pinning: ${pinning ? 'verifier on core 0; load and Redis on core 1' : 'unavailable'}; ${ROUNDS} rounds × ${ROUND_SECONDS} s`,
  );
  console.log('population                          req/s (median)  p99 ms  cost vs 5 groups');
  const label = {
    five: '5 groups in the token',
    filtered: '5,000 directory groups, filtered',
    unfiltered: '5,000 groups unfiltered (reference)',
  };
  for (const name of Object.keys(results)) {
    const rate = median(results[name]);
    console.log(
      `${label[name].padEnd(36)}${rate.toFixed(0).padStart(14)}  ${String(median(p99[name])).padStart(6)}  ${(base / rate).toFixed(2)}×`,
    );
  }
  console.log(`verifier RSS after the run: ${rss.toFixed(0)} MB`);
} finally {
  await verifier?.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
