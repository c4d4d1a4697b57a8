// Redis memory per session: `npm run build && node bench/verifier/memory-per-session.js`.
//
// Mints COUNT (2,000) sessions with one access token each, as bench:verifier does (IdP-style claims,
// through the real TokenService), into a private redis-server, and reports `used_memory` growth per
// session plus `MEMORY USAGE` of one session's own keys: the session (its record and the lines of its
// tokens) and its access token. The list of all sessions holds one more entry per session.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../dist/config/index.js';
import { startRedis } from '../lib/redis-process.js';
import { mintTokens } from './tokens.js';

const COUNT = Number(process.env.BENCH_SESSIONS ?? 2000);
const AUDIENCE = 'https://kubernetes.default.svc';

function cli(port, ...args) {
  return execFileSync('redis-cli', ['-p', String(port), ...args])
    .toString()
    .trim();
}

function usedMemory(port) {
  return Number(/used_memory:(\d+)/.exec(cli(port, 'INFO', 'memory'))[1]);
}

const dir = mkdtempSync(join(tmpdir(), 'kob-mem-'));
const redis = await startRedis(1);
try {
  const port = new URL(redis.url).port;
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    `store:\n  redis: { url: "${redis.url}" }\nverifier:\n  insecureHTTP: true\n  audiences: ["${AUDIENCE}"]\n`,
  );
  const config = loadConfigFile(configFile, {});
  await mintTokens(config, AUDIENCE, 10); // indexes, marker and scripts exist before measuring
  const before = usedMemory(port);
  await mintTokens(config, AUDIENCE, COUNT);
  const after = usedMemory(port);
  console.log(
    `used_memory growth per session: ${((after - before) / COUNT).toFixed(0)} bytes (${COUNT} sessions)`,
  );
  const sessionKey = cli(port, '--scan', '--pattern', 'kob:session:*').split('\n')[0];
  const id = sessionKey.slice('kob:session:'.length);
  // The session's value: its record, then one `a:HASH EXPIRES` line per token.
  const member = cli(port, 'GET', sessionKey).split('\n')[1].split(' ')[0];
  const keys = [sessionKey, `kob:at:{${member.slice(2)}}`];
  const sizes = keys.map((k) => Number(cli(port, 'MEMORY', 'USAGE', k)));
  console.log(
    `MEMORY USAGE of session ${id}'s own keys: ${keys.map((k, i) => `${k.split(':')[1]}=${sizes[i]}`).join(', ')}; total ${sizes.reduce((a, b) => a + b, 0)} bytes`,
  );
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
