import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { readWebhookKubeconfig } from '../support/apiserver-webhook-kubeconfig.js';
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

/** The admin commands, run in-process through the dispatcher as `kube-oidc-bridge …` would run them. */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-admin-'));
let pki: VerifierPki;
let redis: TestRedis;
let configFile: string;
let services: RunningServices;

function cli(...args: string[]): Promise<CliRun> {
  return runCliCaptured(args, { cwd: dir });
}

async function reviewAs(token: string) {
  const answer = await postReview(services.verifierURL, token, pki);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body).status;
}

beforeAll(async () => {
  pki = createVerifierPki(certs);
  redis = await startTestRedis();
  configFile = writeConfigFile(dir, verifierConfig({ redisUrl: redis.url, pki }));
  services = await startServices(loadConfigFile(configFile, {}), {
    env: {},
    logger: createLogger({ level: 'silent' }),
  });
});

afterAll(async () => {
  await services?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('token mint / revoke / list', () => {
  it('mint --username prints only the token; it reviews as minted; after revoke it is denied', async () => {
    const mint = await cli(
      'token',
      'mint',
      '--config',
      'config.yaml',
      '--audience',
      CLUSTER_AUDIENCE,
      '--username',
      'erin',
      '--uid',
      'e-1',
      '--group',
      'dev',
      '--group',
      'ops',
      '--extra',
      'example.com/team=blue',
    );
    expect(mint.code).toBe(0);
    expect(mint.stdout).toMatch(/^kob_[A-Za-z0-9_-]{49}\n$/);
    const token = mint.stdout.trim();
    expect(mint.stderr).not.toContain(token);

    expect(await reviewAs(token)).toEqual({
      authenticated: true,
      user: { username: 'erin', uid: 'e-1', groups: ['dev', 'ops'], extra: { 'example.com/team': ['blue'] } },
      audiences: [CLUSTER_AUDIENCE],
    });

    const revoke = await cli('token', 'revoke', '--config', 'config.yaml', '--token', token);
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toMatch(/^revoked session \S+ of erin\n$/);
    expect(await reviewAs(token)).toEqual({ authenticated: false });
    // Revoking again names nothing live.
    expect((await cli('token', 'revoke', '--config', 'config.yaml', '--token', token)).code).toBe(1);
  });

  it('mint --claims goes through the mapping rules at review time', async () => {
    writeFileSync(
      join(dir, 'claims.json'),
      JSON.stringify({ email: 'fay@example.com', groups: ['platform-admins'] }),
    );
    const mint = await cli(
      'token',
      'mint',
      '--config',
      'config.yaml',
      '--audience',
      CLUSTER_AUDIENCE,
      '--claims',
      '@claims.json',
    );
    expect(mint.code).toBe(0);
    expect(await reviewAs(mint.stdout.trim())).toMatchObject({
      authenticated: true,
      user: { username: 'fay@example.com', groups: ['platform-admins', 'system:masters'] },
    });
  });

  it.each([
    {
      name: 'a system: group for a --username identity without --allow-system',
      args: ['--username', 'gus', '--group', 'system:masters'],
      message: /system-guard.*--allow-system/,
    },
    {
      name: 'system:masters as a raw IdP group in --claims',
      args: ['--claims', '{"email":"h@example.com","groups":["system:masters"]}'],
      message: /system-guard/,
    },
    {
      name: 'claims a claimValidationRule fails on',
      args: ['--claims', '{"email":"i@example.com","department":"broken"}'],
      message: /claimValidationRules/,
    },
  ])('mint refuses $name, with a clear message and no token', async ({ args, message }) => {
    const mint = await cli(
      'token',
      'mint',
      '--config',
      'config.yaml',
      '--audience',
      CLUSTER_AUDIENCE,
      ...args,
    );
    expect(mint.code).toBe(1);
    expect(mint.stdout).toBe('');
    expect(mint.stderr).toMatch(message);
  });

  it('mint --allow-system mints a system: identity on purpose', async () => {
    const mint = await cli(
      'token',
      'mint',
      '--config',
      'config.yaml',
      '--audience',
      CLUSTER_AUDIENCE,
      '--username',
      'break-glass',
      '--group',
      'system:masters',
      '--allow-system',
    );
    expect(mint.code).toBe(0);
    expect(await reviewAs(mint.stdout.trim())).toMatchObject({
      authenticated: true,
      user: { username: 'break-glass', groups: ['system:masters'] },
    });
  });

  it('list shows sessions without any secret; revoke --username ends them all', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      const mint = await cli(
        'token',
        'mint',
        '--config',
        'config.yaml',
        '--audience',
        CLUSTER_AUDIENCE,
        '--username',
        'hana',
      );
      tokens.push(mint.stdout.trim());
    }
    const table = await cli('token', 'list', '--config', 'config.yaml', '--username', 'hana');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^SESSION\s+USERNAME\s+SOURCE\s+CREATED\s+EXPIRES/);
    expect(table.stdout.trim().split('\n')).toHaveLength(3);
    const json = await cli(
      'token',
      'list',
      '--config',
      'config.yaml',
      '--username',
      'hana',
      '--output',
      'json',
    );
    const sessions = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ username: 'hana', source: 'admin', identity: 'static' });
    for (const out of [table.stdout, json.stdout]) {
      expect(out).not.toMatch(/kob_|kobrt_/);
      for (const t of tokens) expect(out).not.toContain(t.slice(4));
    }

    const revoke = await cli('token', 'revoke', '--config', 'config.yaml', '--username', 'hana');
    expect(revoke.stdout).toBe('revoked 2 sessions of hana\n');
    for (const t of tokens) expect(await reviewAs(t)).toEqual({ authenticated: false });
    const after = await cli(
      'token',
      'list',
      '--config',
      'config.yaml',
      '--username',
      'hana',
      '--output',
      'json',
    );
    expect(JSON.parse(after.stdout)).toEqual([]);
  });
});

describe('config check', () => {
  it('accepts a valid file', async () => {
    const run = await cli('config', 'check', '--config', 'config.yaml');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('configuration is valid (roles: verifier)');
  });

  it('names every bad field by its path, CEL rules included', async () => {
    const bad = verifierConfig({ redisUrl: 'http://not-redis', pki });
    bad.verifier!.listen = 'nowhere';
    bad.verifier!.tls!.clientCA = 'missing-ca.crt';
    bad.tokens = { accessTokenTTL: 'soon' };
    writeConfigFile(dir, bad, 'bad.yaml');
    const run = await cli('config', 'check', '--config', 'bad.yaml');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('store.redis.url:');
    expect(run.stderr).toContain('verifier.listen:');
    expect(run.stderr).toContain('tokens.accessTokenTTL:');

    const badRule = verifierConfig({ redisUrl: redis.url, pki });
    badRule.mapping!.claimMappings!.username = { expression: 'claims.email +' };
    writeConfigFile(dir, badRule, 'bad-rule.yaml');
    const rule = await cli('config', 'check', '--config', 'bad-rule.yaml');
    expect(rule.code).toBe(1);
    expect(rule.stderr).toContain('mapping.claimMappings.username.expression:');
  });

  it('reports a certificate file that does not load', async () => {
    const broken = verifierConfig({ redisUrl: redis.url, pki });
    broken.verifier!.tls!.key = pki.apiserver.keyFile; // a key that does not match the serving certificate
    writeConfigFile(dir, broken, 'bad-key.yaml');
    const run = await cli('config', 'check', '--config', 'bad-key.yaml');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('verifier.tls:');
  });
});

describe('webhook-config', () => {
  it("prints a self-contained kubeconfig the apiserver's loader reads", async () => {
    const url = `${services.verifierURL}/authenticate`;
    const args = ['--url', url, '--ca', pki.serverCA.certFile, '--client-cert', pki.apiserver.certFile];
    const run = await cli('webhook-config', ...args, '--client-key', pki.apiserver.keyFile);
    expect(run.code).toBe(0);
    const doc = parse(run.stdout);
    expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': 'webhook' });
    expect(doc.clusters[0].cluster.server).toBe(url);
    expect(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(
      pki.serverCA.cert,
    );
    expect(Buffer.from(doc.users[0].user['client-certificate-data'], 'base64').toString()).toBe(
      pki.apiserver.cert,
    );
    expect(Buffer.from(doc.users[0].user['client-key-data'], 'base64').toString()).toBe(pki.apiserver.key);

    const out = join(dir, 'webhook.kubeconfig');
    const written = await cli('webhook-config', ...args, '--client-key', pki.apiserver.keyFile, '--out', out);
    expect(written.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toBe(run.stdout);
    const endpoint = readWebhookKubeconfig(out);
    expect(endpoint.server.href).toBe(url);
    expect(endpoint.clientCert).toBe(pki.apiserver.cert);
  });

  it('refuses a key file in place of a certificate, and http:// URLs', async () => {
    const wrong = await cli(
      'webhook-config',
      '--url',
      'https://v.example/authenticate',
      '--ca',
      pki.serverCA.keyFile,
      '--client-cert',
      pki.apiserver.certFile,
      '--client-key',
      pki.apiserver.keyFile,
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--ca');
    const http = await cli(
      'webhook-config',
      '--url',
      'http://v.example/authenticate',
      '--ca',
      pki.serverCA.certFile,
      '--client-cert',
      pki.apiserver.certFile,
      '--client-key',
      pki.apiserver.keyFile,
    );
    expect(http.code).toBe(2);
  });
});

describe('--help', () => {
  it('lists the admin commands', async () => {
    const run = await cli('--help');
    expect(run.code).toBe(0);
    for (const command of [
      'serve',
      'token mint',
      'token revoke',
      'token list',
      'config check',
      'webhook-config',
      'mapping explain',
    ]) {
      expect(run.stdout).toContain(`  ${command} `);
    }
  });

  it.each([
    { command: 'token mint', flag: '--allow-system' },
    { command: 'token revoke', flag: '--username' },
    { command: 'token list', flag: '--output json' },
    { command: 'config check', flag: '--config' },
    { command: 'webhook-config', flag: '--client-key' },
    { command: 'serve', flag: '--config' },
  ])('$command --help documents its flags', async ({ command, flag }) => {
    const run = await cli(...command.split(' '), '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage:/);
    expect(run.stdout).toContain(flag);
  });
});
