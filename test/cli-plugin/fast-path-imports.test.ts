import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, cachePaths } from '../../src/cli/plugin/cache-location.js';
import { writeCacheEntry } from '../../src/cli/plugin/token-cache.js';

/**
 * kubectl runs the plugin before every command: the cached answer must load only the entry point and
 * the bundled fast path (docs/design.md §5, §10), never koa, ioredis, openid-client, pino, zod or yaml,
 * and not even the ES module loader. Node's own module debug log (NODE_DEBUG=module,esm) lists every
 * file the built binary loads, CommonJS and ES modules alike.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function loadedFiles(stderr: string): { commonjs: Set<string>; esm: Set<string>; builtins: Set<string> } {
  return {
    commonjs: new Set(
      [...stderr.matchAll(/MODULE \d+: load "([^"]+)" for module/g)].map((m) => m[1] as string),
    ),
    esm: new Set([...stderr.matchAll(/file:\/\/[^\s'",)]+/g)].map((m) => fileURLToPath(m[0]))),
    // Node 20 names built-ins `node:fs`, Node 24 `fs`.
    builtins: new Set(
      [...stderr.matchAll(/load built-in module (?:node:)?(\S+)/g)].map((m) => `node:${m[1]}`),
    ),
  };
}

describe('fast path module footprint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kob-fastpath-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const issuer = 'https://issuer.example';

  function login(extra: string[] = []) {
    return spawnSync(
      process.execPath,
      [
        join(repoRoot, 'bin', 'kube-oidc-bridge.js'),
        'login',
        '--issuer',
        issuer,
        '--cache-dir',
        dir,
        ...extra,
      ],
      { env: { PATH: process.env.PATH, NODE_DEBUG: 'module,esm' }, encoding: 'utf8' },
    );
  }

  it('a cached answer loads two files, the entry point and the bundled fast path, and no ES module', () => {
    writeCacheEntry(cachePaths(dir, cacheKey({ issuer, clientId: 'kube-oidc-bridge' })).file, {
      version: 1,
      issuer,
      clientId: 'kube-oidc-bridge',
      tokens: { '': { accessToken: 'kob_cached', expiresAt: Math.floor(Date.now() / 1000) + 3600 } },
    });
    const run = login();
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).status.token).toBe('kob_cached');
    const loaded = loadedFiles(run.stderr);
    expect([...loaded.commonjs].sort()).toEqual([
      join(repoRoot, 'bin', 'kube-oidc-bridge.js'),
      join(repoRoot, 'dist', 'cli', 'fast-entry.cjs'),
    ]);
    expect([...loaded.esm]).toEqual([]);
    expect([...loaded.builtins].sort()).toEqual([
      'node:crypto',
      'node:fs',
      'node:module',
      'node:os',
      'node:path',
    ]);
  });

  it('without a cached token the full CLI takes over through the ES module graph', () => {
    const run = login(['--audience', 'https://not-cached.example', '--timeout', '1s', '--no-browser']);
    const loaded = loadedFiles(run.stderr);
    expect([...loaded.esm]).toContain(join(repoRoot, 'dist', 'cli', 'main.js'));
  });
});
