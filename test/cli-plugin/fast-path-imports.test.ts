import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, cachePaths } from '../../src/cli/plugin/cache-location.js';
import { writeCacheEntry } from '../../src/cli/plugin/token-cache.js';

/**
 * kubectl runs the plugin before every command: the cached answer must load only the dispatcher and
 * the fast path (docs/design.md §5, §10), never koa, ioredis, openid-client, pino, zod or yaml. Node's own
 * module debug log (NODE_DEBUG=esm) lists every file the built binary loads.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('fast path module footprint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kob-fastpath-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a cached answer loads no package from node_modules and nothing outside dist/cli', () => {
    const issuer = 'https://issuer.example';
    writeCacheEntry(cachePaths(dir, cacheKey({ issuer, clientId: 'kube-oidc-bridge' })).file, {
      version: 1,
      issuer,
      clientId: 'kube-oidc-bridge',
      tokens: { '': { accessToken: 'kob_cached', expiresAt: Math.floor(Date.now() / 1000) + 3600 } },
    });
    const run = spawnSync(
      process.execPath,
      [join(repoRoot, 'bin', 'kube-oidc-bridge.js'), 'login', '--issuer', issuer, '--cache-dir', dir],
      { env: { PATH: process.env.PATH, NODE_DEBUG: 'esm' }, encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).status.token).toBe('kob_cached');
    const loaded = new Set([...run.stderr.matchAll(/file:\/\/[^\s'",)]+/g)].map((m) => fileURLToPath(m[0])));
    expect(loaded.size).toBeGreaterThan(3);
    for (const file of loaded) {
      expect(file.includes('node_modules'), file).toBe(false);
      expect(
        file.startsWith(join(repoRoot, 'dist', 'cli')) || file.startsWith(join(repoRoot, 'bin')),
        file,
      ).toBe(true);
    }
  });
});
