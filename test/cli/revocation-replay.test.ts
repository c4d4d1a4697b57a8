import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { type CliRun, runCliCaptured } from '../support/run-cli.js';
import {
  CLUSTER_AUDIENCE,
  createVerifierPki,
  postReview,
  type VerifierPki,
  verifierConfig,
  writeConfigFile,
} from '../verifier/verifier-fixture.js';

/**
 * `token revoke --replay-since`: a failover can bring back a copy of the data from before a
 * revocation (a lagging replica; on Cluster, a session's shard while the journal's shard kept the
 * entry). Here the old copy is put back by hand (DUMP before, RESTORE after), the journal stays.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-replay-'));
let pki: VerifierPki;
let redis: TestRedis;
let admin: Redis;
let services: RunningServices;

function cli(...args: string[]): Promise<CliRun> {
  return runCliCaptured(args, { cwd: dir });
}

async function reviewAs(token: string) {
  const answer = await postReview(services.verifierURL, token, pki);
  return JSON.parse(answer.body).status.authenticated as boolean;
}

/** Every key but the journal, as DUMP payloads: the state a lagging replica would have. */
async function snapshot(): Promise<[string, Buffer][]> {
  const keys = (await admin.keys('kob:*')).filter((key) => key !== 'kob:revocations');
  return Promise.all(
    keys.map(async (key) => [key, (await admin.dumpBuffer(key)) as Buffer] as [string, Buffer]),
  );
}

beforeAll(async () => {
  pki = createVerifierPki(certs);
  redis = await startTestRedis();
  admin = new Redis(redis.url);
  const configFile = writeConfigFile(dir, verifierConfig({ redisUrl: redis.url, pki }));
  services = await startServices(loadConfigFile(configFile, {}), {
    env: {},
    logger: createLogger({ level: 'silent' }),
  });
});

afterAll(async () => {
  await services?.close();
  admin?.disconnect();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('token revoke --replay-since', () => {
  it('re-applies a revocation that an old copy of the data undid', async () => {
    const mint = await cli(
      'token',
      'mint',
      '--config',
      'config.yaml',
      '--audience',
      CLUSTER_AUDIENCE,
      '--username',
      'gus',
    );
    expect(mint.code).toBe(0);
    const token = mint.stdout.trim();
    const before = await snapshot();

    expect((await cli('token', 'revoke', '--config', 'config.yaml', '--token', token)).code).toBe(0);
    expect(await reviewAs(token)).toBe(false);
    expect(await admin.xlen('kob:revocations')).toBe(1);

    // The failover: the old copy is back, the revoked token works again.
    for (const [key, dump] of before) await admin.restore(key, 0, dump, 'REPLACE');
    expect(await reviewAs(token)).toBe(true);

    const replay = await cli('token', 'revoke', '--config', 'config.yaml', '--replay-since', '10m');
    expect(replay.stderr).toContain('"scope":"replay"');
    expect(replay.stdout).toBe(
      'replayed 1 revocation of the last 10m; 1 session was live again and revoked\n',
    );
    expect(replay.code).toBe(0);
    expect(await reviewAs(token)).toBe(false);

    // Idempotent: nothing live to revoke the second time.
    const again = await cli('token', 'revoke', '--config', 'config.yaml', '--replay-since', '10m');
    expect(again.stdout).toBe(
      'replayed 1 revocation of the last 10m; 0 sessions were live again and revoked\n',
    );
  });

  it.each([
    ['not a duration', 'soon'],
    ['zero', '0s'],
  ])('--replay-since %s is a usage error', async (_name, value) => {
    const run = await cli('token', 'revoke', '--config', 'config.yaml', '--replay-since', value);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--replay-since: not a duration');
  });

  it('--replay-since with another selector is a usage error', async () => {
    const run = await cli(
      'token',
      'revoke',
      '--config',
      'config.yaml',
      '--replay-since',
      '5m',
      '--username',
      'x',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('exactly one of');
  });
});
