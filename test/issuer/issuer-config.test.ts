import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type ConfigFileInput, parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { runCliCaptured } from '../support/run-cli.js';

/**
 * Every check `serve` would make of the configuration lives in the schema, so `config check` reports
 * every problem at once, by path, instead of `serve` refusing one at a time.
 */

const dir = mkdtempSync(join(tmpdir(), 'kob-issuer-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'k'.repeat(32);

function issuerConfig(issuer: Record<string, unknown> = {}, store: Record<string, unknown> = { memory: {} }) {
  return {
    store,
    issuer: {
      publicURL: 'https://login.example.com',
      cookieSecret: KEY,
      encryptionKey: KEY,
      clusters: [{ name: 'prod', audience: 'https://prod.example.com' }],
      upstreams: [{ name: 'corp', issuer: 'https://idp.example.com', clientID: 'bridge', clientSecret: 's' }],
      ...issuer,
    },
  } as ConfigFileInput;
}

function problemsOf(raw: unknown, env: Record<string, string> = {}): { path: string; message: string }[] {
  try {
    parseConfig(raw, { env, baseDir: dir });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('config check reports every problem at once', () => {
  it('an http:// publicURL and a 5-byte cookieSecret are both named', async () => {
    const file = join(dir, 'two-problems.yaml');
    writeFileSync(
      file,
      stringify(issuerConfig({ publicURL: 'http://login.example.com', cookieSecret: '12345' })),
    );
    const run = await runCliCaptured(['config', 'check', '--config', file], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('issuer.publicURL: must be https://');
    expect(run.stderr).toContain('issuer.cookieSecret: must be at least 32 bytes');
  });

  const cases: [string, ConfigFileInput, Record<string, string>, string][] = [
    [
      'plain http on a public host',
      issuerConfig({ publicURL: 'http://login.example.com' }),
      {},
      'issuer.publicURL',
    ],
    ['a short inline cookie secret', issuerConfig({ cookieSecret: 'short' }), {}, 'issuer.cookieSecret'],
    [
      'a short encryption key from the environment',
      issuerConfig({ encryptionKey: { env: 'KEY' } }),
      { KEY: 'short' },
      'issuer.encryptionKey',
    ],
    [
      'client_secret_basic without a secret',
      issuerConfig({ upstreams: [{ name: 'corp', issuer: 'https://idp.example.com', clientID: 'bridge' }] }),
      {},
      'issuer.upstreams.0.clientSecret',
    ],
    [
      'private_key_jwt without a key',
      issuerConfig({
        upstreams: [
          { name: 'corp', issuer: 'https://idp.example.com', clientID: 'b', clientAuth: 'private_key_jwt' },
        ],
      }),
      {},
      'issuer.upstreams.0.privateKey',
    ],
    [
      'a brace in the Redis key prefix',
      issuerConfig({}, { redis: { url: 'redis://r:6379', keyPrefix: 'a{b}' } }),
      {},
      'store.redis.keyPrefix',
    ],
    [
      'tlsCA without rediss://',
      issuerConfig({}, { redis: { url: 'redis://r:6379', tlsCA: 'ca.pem' } }),
      {},
      'store.redis.tlsCA',
    ],
    [
      'a Redis database that is not a number',
      issuerConfig({}, { redis: { url: 'redis://r:6379/zero' } }),
      {},
      'store.redis.url',
    ],
    [
      'a trusted proxy that is not an address',
      issuerConfig({ trustProxy: ['10.0.0.0/33'] }),
      {},
      'issuer.trustProxy.0',
    ],
  ];
  for (const [name, raw, env, path] of cases) {
    it(`${name}: reported at ${path}`, () => {
      expect(problemsOf(raw, env).map((p) => p.path)).toContain(path);
    });
  }

  it('a valid file has no problems; http on loopback is fine for development', () => {
    expect(problemsOf(issuerConfig())).toEqual([]);
    expect(problemsOf(issuerConfig({ publicURL: 'http://127.0.0.1:8080' }))).toEqual([]);
  });
});
