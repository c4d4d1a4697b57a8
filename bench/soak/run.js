// Soak and fault suite for the verifier: `npm run build && node bench/soak/run.js SCENARIO`.
// Not part of `npm test`. Scenarios and results: docs/operations.md "Soak and fault results".
//
//   steady                     SOAK_SECONDS (600) at SOAK_RATE (1000) req/s, every answer checked
//   redis-sigstop              Redis frozen (SIGSTOP) for FAULT_SECONDS (10), then thawed
//   redis-kill                 Redis killed (SIGKILL) without persistence, restarted after FAULT_SECONDS: comes back empty
//   redis-kill-aof             the same with AOF (appendfsync always): comes back with its data
//   sentinel-failover-lag      primary + replica + 3 Sentinels: the replica lags (SIGSTOP, link cut), 100 valid
//                              tokens are revoked, the primary is killed (SIGKILL) and the lagging replica promoted
//   cluster-master-kill        3 masters + 3 replicas: one master killed (SIGKILL), its replica takes over
//   cluster-master-kill-empty  3 masters, no replicas: one master killed, restarted empty after FAULT_SECONDS
//
// Traffic mixes valid, revoked, unknown and wrong-audience tokens (sentinel-failover-lag adds the 100
// tokens revoked during the lag). Printed per scenario: load held, answers during the fault by status,
// false accepts (authenticated:true where it must not be), false denials after recovery (a valid token
// denied without `error`), recovery time (fault end — restart, thaw or promotion — → first valid token
// accepted; on Cluster a token of the killed master's shard), verifier RSS start → end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../dist/config/index.js';
import { hashCredential } from '../../dist/core/token-format.js';
import { clusterNodes, servesSlot, startRedisCluster, startSentinelGroup, until } from '../lib/redis-ha.js';
import { startRedisNode } from '../lib/redis-process.js';
import { reviewOnce, startReviewTraffic } from '../lib/review-traffic.js';
import { startServerProcess } from '../lib/server-process.js';
import { writeVerifierConfig } from '../lib/verifier-config.js';
import { mintTokens, openTokenService } from '../verifier/tokens.js';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const SCENARIO = process.argv[2] ?? 'steady';
const RATE = Number(env.SOAK_RATE ?? 1000);
const FAULT_SECONDS = Number(env.FAULT_SECONDS ?? 10);
const AUDIENCE = 'https://kubernetes.default.svc';
const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
const sleepUntil = (at) => sleep(Math.max(0, at - Date.now()) / 1000);

/** Redis frozen for the fault, then thawed. */
async function freeze({ backend, traffic }) {
  backend.node.signal('SIGSTOP');
  await sleep(FAULT_SECONDS);
  backend.node.signal('SIGCONT');
  traffic.recoverFrom(Date.now());
}

/** Redis killed, started again on the same port and folder after the fault. */
async function restart({ backend, traffic }) {
  await backend.node.kill();
  await sleep(FAULT_SECONDS);
  await backend.node.start();
  traffic.recoverFrom(Date.now());
}

/**
 * The replica lags (frozen, its link cut), 100 tokens are revoked through TokenService (applied on the
 * primary, journaled, WAIT for a replica), the primary dies and the sentinels promote the lagging
 * replica. The revoking store replays its revocations on the new primary.
 */
async function failoverWithLag(ctx) {
  const { backend, issuer, traffic, notes, lag } = ctx;
  const primary = await backend.ha.primary();
  const replica = await backend.ha.replica();
  replica.signal('SIGSTOP');
  await primary.call('CLIENT', 'KILL', 'TYPE', 'replica');
  lag.startedAt = Date.now();
  const outcomes = await Promise.allSettled(lag.tokens.map((t) => issuer.service.revokeAccessToken(t)));
  lag.doneAt = Date.now();
  const unconfirmed = outcomes.filter((o) => o.reason?.name === 'RevocationUnconfirmedError').length;
  const acknowledged = outcomes.filter((o) => o.status === 'fulfilled').length;
  notes.push(
    `revoked during the lag: ${outcomes.length} in ${lag.doneAt - lag.startedAt} ms (${acknowledged} acknowledged by a replica, ${unconfirmed} RevocationUnconfirmedError: applied on the primary only, ${outcomes.length - acknowledged - unconfirmed} other errors)`,
  );
  const killedAt = Date.now();
  await primary.kill();
  replica.signal('SIGCONT');
  await until('the sentinels to promote the replica', async () => (await backend.ha.primary()) === replica);
  const promotedAt = Date.now();
  traffic.recoverFrom(promotedAt);
  notes.push(
    `failover: primary killed → replica promoted (as the sentinels name it) after ${promotedAt - killedAt} ms`,
  );
  await sleepUntil(killedAt + FAULT_SECONDS * 1000);
  ctx.finalCheck = async () => {
    const replay = issuer.log.find((l) => l.msg === 'revocations replayed after a failover');
    notes.push(
      replay
        ? `replay by the revoking store: ${replay.replayed} replayed, ${replay.restored} live again and revoked, +${replay.seenAt - promotedAt} ms after promotion`
        : 'replay by the revoking store: none logged',
    );
    const late = traffic.falseAcceptTimes.map((t) => t - promotedAt);
    if (late.length > 0)
      notes.push(
        `false accepts answered from ${Math.min(...late)} ms to ${Math.max(...late)} ms relative to the promotion (polled every 50 ms)`,
      );
    let accepted = 0;
    for (const token of lag.tokens)
      if ((await reviewOnce(ctx.url, token, AUDIENCE)).authenticated) accepted++;
    notes.push(
      `revoked during the lag, accepted after the failover (one review each at the end): ${accepted} of ${lag.tokens.length}`,
    );
  };
}

/** The master that serves the first valid token, and which valid tokens live on it (`KEYSLOT` of their hash). */
async function findShard(ctx) {
  const { cluster } = ctx.backend;
  const slotOf = async (token) =>
    Number(await cluster.nodes[0].call('CLUSTER', 'KEYSLOT', hashCredential(token)));
  const slot = await slotOf(ctx.tokens.valid[0]);
  const master = (await clusterNodes(cluster.nodes[0])).find(
    (n) => n.flags.includes('master') && servesSlot(n, slot),
  );
  const tokens = new Set();
  for (const token of ctx.tokens.valid) if (servesSlot(master, await slotOf(token))) tokens.add(token);
  ctx.shard = { slot, master, tokens };
}

/**
 * Kills the master `findShard` chose; with replicas, waits until one of them serves its slots; without,
 * starts it again (empty) after the fault. Recovery counts that shard's tokens only.
 */
async function killMaster({ backend, shard, tokens, traffic, notes }) {
  const victim = backend.cluster.nodeAt(shard.master.port);
  const witness = backend.cluster.nodes.find((n) => n !== victim);
  const what = `killed master :${victim.port} (${shard.tokens.size} of ${tokens.valid.length} valid tokens)`;
  const killedAt = Date.now();
  await victim.kill();
  if (backend.replicas) {
    await until('a replica to take over the killed master', async () =>
      (await clusterNodes(witness)).some(
        (n) => n.port !== victim.port && n.flags.includes('master') && servesSlot(n, shard.slot),
      ),
    );
    traffic.recoverFrom(Date.now(), shard.tokens);
    notes.push(`${what}; its replica serves the slots ${Date.now() - killedAt} ms after the kill`);
    await sleepUntil(killedAt + FAULT_SECONDS * 1000);
  } else {
    await sleep(FAULT_SECONDS);
    await victim.start();
    traffic.recoverFrom(Date.now(), shard.tokens);
    notes.push(`${what}, restarted empty after ${FAULT_SECONDS} s`);
  }
}

const SCENARIOS = {
  steady: { deploy: 'redis', before: Number(env.SOAK_SECONDS ?? 600) },
  'redis-sigstop': { deploy: 'redis', fault: freeze },
  'redis-kill': { deploy: 'redis', fault: restart },
  'redis-kill-aof': { deploy: 'redis-aof', fault: restart },
  'sentinel-failover-lag': { deploy: 'sentinel', fault: failoverWithLag, lag: 100 },
  'cluster-master-kill': { deploy: 'cluster', prepare: findShard, fault: killMaster },
  'cluster-master-kill-empty': { deploy: 'cluster-bare', prepare: findShard, fault: killMaster },
};
const scenario = SCENARIOS[SCENARIO];
if (!scenario) throw new Error(`unknown scenario ${SCENARIO}; one of ${Object.keys(SCENARIOS).join(', ')}`);
const PLAN = { before: scenario.before ?? 20, after: scenario.fault ? 20 : 0 };

/** The Redis deployment a scenario runs against, with the `store.redis` settings that reach it. */
async function deploy(kind) {
  if (kind === 'redis' || kind === 'redis-aof') {
    const node = await startRedisNode({ aof: kind === 'redis-aof' });
    return { node, store: `url: "${node.url}"`, stop: () => node.stop() };
  }
  if (kind === 'sentinel') {
    const ha = await startSentinelGroup();
    return {
      ha,
      store: `sentinel: { name: ${ha.name}, nodes: ${JSON.stringify(ha.seeds)} }`,
      stop: () => ha.close(),
    };
  }
  const replicas = kind === 'cluster' ? 1 : 0;
  const cluster = await startRedisCluster({ replicas });
  return {
    cluster,
    replicas,
    store: `cluster: { nodes: ${JSON.stringify(cluster.seeds)} }`,
    stop: () => cluster.close(),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kob-soak-'));
  const backend = await deploy(scenario.deploy);
  let verifier;
  let issuer;
  try {
    const configFile = join(dir, 'config.yaml');
    writeVerifierConfig(configFile, {
      redis: `${backend.store}, keyPrefix: "kob-soak:", connectTimeout: 1, commandTimeout: 1`,
      audience: AUDIENCE,
      logLevel: 'warn',
    });
    const config = loadConfigFile(configFile, {});
    const tokens = {
      valid: await mintTokens(config, AUDIENCE, 200),
      doomed: await mintTokens(config, AUDIENCE, 100),
      unknown: Array.from({ length: 100 }, (_, i) => `kob_${'x'.repeat(43)}${String(i).padStart(6, '0')}`),
    };
    const lag = { tokens: scenario.lag ? await mintTokens(config, AUDIENCE, scenario.lag) : [] };
    issuer = openTokenService(config);
    for (const token of tokens.doomed) await issuer.service.revokeAccessToken(token);

    verifier = await startServerProcess(
      'verifier',
      [join(here, '..', 'verifier', 'verifier-process.js'), configFile],
      {
        stdout: 'inherit',
      },
    );
    const rssStart = verifier.rssMB();
    const pool = (kind, list, expect, audience = AUDIENCE) => ({
      kind,
      tokens: list,
      audience,
      expect: () => expect,
    });
    const pools = [
      pool('valid', tokens.valid, 'accept'),
      pool('revoked', tokens.doomed, 'deny'),
      pool('unknown', tokens.unknown, 'deny'),
      pool('audience', tokens.valid, 'deny', 'https://other-cluster'),
    ];
    if (lag.tokens.length > 0) {
      // Accepted until revoked; a request sent while the revocations run may go either way.
      const expect = (at) =>
        lag.startedAt === undefined || at < lag.startedAt ? 'accept' : lag.doneAt <= at ? 'deny' : 'either';
      pools.push({ kind: 'revoked during the lag', tokens: lag.tokens, audience: AUDIENCE, expect });
    }
    const ctx = { backend, issuer, tokens, lag, notes: [], url: verifier.url };
    await scenario.prepare?.(ctx);
    const traffic = startReviewTraffic({ url: verifier.url, rate: RATE, pools });
    ctx.traffic = traffic;
    const started = Date.now();
    await sleep(PLAN.before);
    if (scenario.fault) {
      traffic.phase = 'fault';
      await scenario.fault(ctx);
      traffic.phase = 'after';
      await sleep(PLAN.after);
    }
    traffic.stop();
    const seconds = (Date.now() - started) / 1000;
    await sleep(2);
    await ctx.finalCheck?.();
    const rssEnd = verifier.rssMB();
    traffic.close();
    const { stats, recovery } = traffic;
    const falseAccepts = Object.values(stats.falseAccepts).reduce((a, b) => a + b, 0);
    console.log(`scenario ${SCENARIO}: ${seconds.toFixed(0)} s at ${RATE} req/s offered`);
    console.log(`load held: ${traffic.held(seconds).toFixed(0)} answers/s (${stats.done} of ${stats.sent})`);
    for (const [phase, counts] of Object.entries(stats.byPhase))
      console.log(`  ${phase}: ${JSON.stringify(counts)}`);
    console.log(
      `false accepts: ${falseAccepts}${falseAccepts ? ` ${JSON.stringify(stats.falseAccepts)}` : ''}`,
    );
    console.log(`false denials after recovery: ${stats.falseDenialsAfter}`);
    if (recovery.from)
      console.log(
        `recovery: ${recovery.at ? `${recovery.at - recovery.from} ms` : 'no valid token accepted after the fault'}`,
      );
    for (const note of ctx.notes) console.log(note);
    console.log(`verifier RSS: ${Math.round(rssStart)} MB → ${Math.round(rssEnd)} MB`);
    console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  } finally {
    await verifier?.stop();
    await issuer?.store.close();
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
