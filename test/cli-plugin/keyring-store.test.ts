import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, cachePaths } from '../../src/cli/plugin/cache-location.js';
import { answerFromCache } from '../../src/cli/plugin/fast-path.js';
import { writeCacheEntry } from '../../src/cli/plugin/token-cache.js';
import { DEV_AUDIENCE } from '../oauth/issuer-harness.js';
import { finished, type PluginUser, type PluginWorld, startPluginWorld } from './plugin-world.js';

/**
 * `--token-store keyring`: the refresh token in the OS keyring, here a real Secret Service
 * (gnome-keyring) on a private D-Bus session per command, the way a desktop session provides one.
 * The keyring file lives in the user's HOME, so it persists from one session to the next.
 */
const binScript = fileURLToPath(new URL('../../bin/kube-oidc-bridge.js', import.meta.url));
const UNLOCK =
  'printf kob-test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"';

function inDesktopSession(env: Record<string, string>, command: string, ...args: string[]) {
  return spawn('dbus-run-session', ['--', 'sh', '-c', UNLOCK, 'sh', command, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The refresh token the keyring holds for the user's cache entry ('' when none). */
async function keyringSecret(user: PluginUser, key: string): Promise<string> {
  const run = await finished(
    inDesktopSession(user.env(), 'secret-tool', 'lookup', 'service', 'kube-oidc-bridge', 'username', key),
  );
  // A daemon that D-Bus activates on demand may print its environment (GNOME_KEYRING_CONTROL=…) to the
  // same stdout: only the secret is ours.
  return run.stdout
    .split('\n')
    .filter((line) => !/^(GNOME_KEYRING_[A-Z_]*|SSH_AUTH_SOCK)=/.test(line))
    .join('\n')
    .trim();
}

function cacheFile(user: PluginUser): { name: string; entry: Record<string, unknown> } {
  const name = readdirSync(user.cacheDir).find((f) => f.endsWith('.json')) as string;
  return { name, entry: JSON.parse(readFileSync(join(user.cacheDir, name), 'utf8')) };
}

const hasSecretService =
  spawnSync('sh', [
    '-c',
    'command -v dbus-run-session && command -v gnome-keyring-daemon && command -v secret-tool',
  ]).status === 0;

describe.skipIf(!hasSecretService)('refresh token in the OS keyring (gnome-keyring over D-Bus)', () => {
  let world: PluginWorld;
  beforeAll(async () => {
    // 25 s tokens are below the cache's 30 s margin: every run after the login refreshes.
    world = await startPluginWorld({ accessTokenTTL: 25 });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('login --token-store keyring keeps the refresh token out of the cache file; refresh and logout use the keyring', async () => {
    const user = world.newUser();
    const login = (extra: string[] = []) =>
      finished(
        inDesktopSession(
          user.env(),
          process.execPath,
          binScript,
          'login',
          '--issuer',
          world.harness.url,
          '--audience',
          DEV_AUDIENCE,
          ...extra,
        ),
      );
    const first = await login(['--token-store', 'keyring']);
    expect(first.code, first.stderr).toBe(0);
    const { name, entry } = cacheFile(user);
    const key = name.replace(/\.json$/, '');
    expect(entry.refreshToken).toBeUndefined();
    expect(entry.refreshTokenIn).toBe('keyring');
    const stored = await keyringSecret(user, key);
    expect(stored).toMatch(/^kobrt_/);
    expect(readFileSync(join(user.cacheDir, name), 'utf8')).not.toContain(stored);

    // A later run (no flag needed) refreshes silently with the token from the keyring, which rotates.
    const second = await login();
    expect(second.code, second.stderr).toBe(0);
    expect(user.browserLaunches()).toBe(1);
    const rotated = await keyringSecret(user, key);
    expect(rotated).toMatch(/^kobrt_/);
    expect(rotated).not.toBe(stored);

    const logout = await finished(
      inDesktopSession(user.env(), process.execPath, binScript, 'logout', '--issuer', world.harness.url),
    );
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stderr).toContain('Logged out of');
    expect(await keyringSecret(user, key)).toBe('');
  });

  it('without a Secret Service, --token-store keyring fails with advice', async () => {
    const user = world.newUser();
    const run = await finished(
      spawn(
        process.execPath,
        [
          binScript,
          'login',
          '--issuer',
          world.harness.url,
          '--audience',
          DEV_AUDIENCE,
          '--token-store',
          'keyring',
        ],
        {
          env: { ...user.env(), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the OS keyring failed');
    expect(run.stderr).toContain('--token-store file');
  });
});

describe('the fast path with --token-store keyring', () => {
  it('answers from the cache file without touching the keyring', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kob-keyring-fast-'));
    try {
      const issuer = 'https://issuer.example';
      writeCacheEntry(cachePaths(dir, cacheKey({ issuer, clientId: 'kube-oidc-bridge' })).file, {
        version: 1,
        issuer,
        clientId: 'kube-oidc-bridge',
        tokens: { '': { accessToken: 'kob_cached', expiresAt: 2_000_000_000 } },
        refreshTokenIn: 'keyring',
      });
      let out = '';
      const answered = answerFromCache(['--issuer', issuer, '--cache-dir', dir, '--token-store', 'keyring'], {
        stdout: { write: (c: string) => (out += c) },
        env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' },
        now: () => 1_900_000_000,
        parentPid: 4242,
      });
      expect(answered).toBe(true);
      expect(JSON.parse(out).status.token).toBe('kob_cached');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
