import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSea } from '../../scripts/build-sea.mjs';
import { DEV_AUDIENCE } from '../oauth/issuer-harness.js';
import { finished, type PluginWorld, startPluginWorld } from './plugin-world.js';

/**
 * The standalone executable (Node's single executable application: `npm run build:sea`) as kubectl's
 * exec plugin on a PATH without `node`: first login through the browser double, then silent cached
 * answers. The build is cached by its inputs (dist/ and the lockfile), so only the first run after a
 * change pays for it.
 */
describe('standalone executable as the kubectl exec plugin, without node on the PATH', () => {
  let world: PluginWorld;
  let executable: string;
  beforeAll(async () => {
    executable = await buildSea();
    world = await startPluginWorld({ executable });
  }, 600_000);
  afterAll(async () => {
    await world?.close();
  });

  it('is one self-contained file', () => {
    expect(statSync(executable).size).toBeGreaterThan(50 * 1024 * 1024);
    const user = world.newUser();
    const lookup = spawnSync('/bin/sh', ['-c', 'command -v node || echo none'], {
      env: user.env(),
      encoding: 'utf8',
    });
    expect(lookup.stdout.trim()).toBe('none');
    const version = spawnSync(executable, ['--version'], { env: user.env(), encoding: 'utf8' });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('first login via the browser, then cached kubectl calls are silent and never reach the issuer', async () => {
    const user = world.newUser();
    expect((await user.setup()).code).toBe(0);
    const first = await user.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).status.userInfo.username).toBe('alice@example.com');
    expect(user.browserLaunches()).toBe(1);
    expect(readdirSync(user.cacheDir).some((f) => f.endsWith('.json'))).toBe(true);

    const before = world.harness.proxy.requests.length;
    const cached = await user.kubectl(['get', '--raw', '/version']);
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.stderr).toBe('');
    expect(world.harness.proxy.requests.length).toBe(before);
  });

  it('answers a hand-run login from the cache in the v1beta1 format', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
    const byHand = await finished(
      user.spawnPlugin(['login', '--issuer', world.harness.url, '--audience', DEV_AUDIENCE]),
    );
    expect(byHand.code, byHand.stderr).toBe(0);
    expect(JSON.parse(byHand.stdout)).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      status: { token: expect.stringMatching(/^kob_/) },
    });
  });

  // Corporate proxies: the executable carries Node.js 24, whose fetch and https honour HTTPS_PROXY
  // when NODE_USE_ENV_PROXY=1 is set (docs/cli.md, Troubleshooting).
  it('with HTTPS_PROXY and NODE_USE_ENV_PROXY=1, the issuer is reached through the proxy, --ca-file or not', async () => {
    const seen: string[] = [];
    const proxy = createServer((socket) => {
      socket.once('data', (head) => {
        seen.push(head.toString().split('\r\n')[0] ?? '');
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-'));
    try {
      const run = (extra: string[]) =>
        finished(
          spawn(
            executable,
            ['login', '--issuer', 'https://issuer.corp.example', '--cache-dir', join(dir, 'cache'), ...extra],
            {
              env: { HOME: dir, HTTPS_PROXY: `http://127.0.0.1:${port}`, NODE_USE_ENV_PROXY: '1' },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          ),
        );
      const plain = await run([]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain('cannot reach the issuer at https://issuer.corp.example');
      const withCa = await run(['--ca-file', world.double.caFile]);
      expect(withCa.code).toBe(1);
      expect(seen).toEqual([
        'CONNECT issuer.corp.example:443 HTTP/1.1',
        'CONNECT issuer.corp.example:443 HTTP/1.1',
      ]);
    } finally {
      proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
