import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { browserCommands } from '../../src/cli/plugin/browser-launcher.js';
import { cacheKey, cachePaths } from '../../src/cli/plugin/cache-location.js';
import { readExecInfo } from '../../src/cli/plugin/exec-credential.js';
import { answerFromCache } from '../../src/cli/plugin/fast-path.js';
import { acquireLock, LockTimeoutError } from '../../src/cli/plugin/file-lock.js';
import { readCacheEntry, writeCacheEntry } from '../../src/cli/plugin/token-cache.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kob-plugin-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ISSUER = 'https://issuer.example';
const NOW = 1_800_000_000;
const V1 = JSON.stringify({
  apiVersion: 'client.authentication.k8s.io/v1',
  kind: 'ExecCredential',
  spec: { interactive: false },
});

function seedCache(cacheDir: string, audience: string, expiresAt: number): void {
  const { file } = cachePaths(cacheDir, cacheKey({ issuer: ISSUER, clientId: 'kube-oidc-bridge' }));
  writeCacheEntry(file, {
    version: 1,
    issuer: ISSUER,
    clientId: 'kube-oidc-bridge',
    tokens: { [audience]: { accessToken: 'kob_cached', expiresAt } },
  });
}

describe('token cache', () => {
  it('creates its folder 0700 and files 0600, and tightens a folder created wider', () => {
    const cacheDir = join(dir, 'cache');
    seedCache(cacheDir, '', NOW);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const { file } = cachePaths(cacheDir, cacheKey({ issuer: ISSUER, clientId: 'kube-oidc-bridge' }));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readCacheEntry(file)?.tokens['']?.accessToken).toBe('kob_cached');
  });
  it('treats a corrupt file as no cache', () => {
    const file = join(dir, 'x.json');
    writeFileSync(file, '{"version":1,');
    expect(readCacheEntry(file)).toBeUndefined();
  });
  it('keys entries by issuer (trailing slash ignored) and client id, not by audience', () => {
    expect(cacheKey({ issuer: `${ISSUER}/`, clientId: 'a' })).toBe(
      cacheKey({ issuer: ISSUER, clientId: 'a' }),
    );
    expect(cacheKey({ issuer: ISSUER, clientId: 'a' })).not.toBe(cacheKey({ issuer: ISSUER, clientId: 'b' }));
  });
});

describe('fast path', () => {
  function fast(argv: string[], env: Record<string, string>) {
    let out = '';
    const answered = answerFromCache(argv, {
      stdout: { write: (c: string) => (out += c) },
      env,
      now: () => NOW,
      parentPid: 4242,
    });
    return { answered, out };
  }
  const args = (aud: string) => ['--issuer', ISSUER, '--audience', aud, '--cache-dir', dir];

  it('answers from a valid cached token in the apiVersion kubectl asked for, expiry reported early', () => {
    seedCache(dir, 'dev', NOW + 600);
    const { answered, out } = fast(args('dev'), { KUBERNETES_EXEC_INFO: V1 });
    expect(answered).toBe(true);
    const credential = JSON.parse(out);
    expect(credential).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1',
      status: { token: 'kob_cached' },
    });
    expect(Date.parse(credential.status.expirationTimestamp) / 1000).toBe(NOW + 600 - 20);
  });
  it('answers v1beta1 when KUBERNETES_EXEC_INFO is absent', () => {
    seedCache(dir, 'dev', NOW + 600);
    expect(JSON.parse(fast(args('dev'), {}).out).apiVersion).toBe('client.authentication.k8s.io/v1beta1');
  });
  // [name, expiry of the cached 'dev' token (none: no cache), argv]
  const fallThrough: [string, number | undefined, string[]][] = [
    ['a token with less than 30 s left', NOW + 29, args('dev')],
    ['another audience', NOW + 600, args('prod')],
    ['an unknown flag', NOW + 600, [...args('dev'), '--bogus']],
    ['--help', NOW + 600, [...args('dev'), '--help']],
    ['no cache file', undefined, args('dev')],
  ];
  for (const [name, expiresAt, argv] of fallThrough) {
    it(`falls through to the full path for ${name}`, () => {
      if (expiresAt !== undefined) seedCache(dir, 'dev', expiresAt);
      const { answered, out } = fast(argv, {});
      expect(answered).toBe(false);
      expect(out).toBe('');
    });
  }
});

describe('KUBERNETES_EXEC_INFO', () => {
  it('reads interactive and apiVersion', () => {
    expect(readExecInfo(V1)).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      interactive: false,
      byHand: false,
    });
  });
  it('refuses an apiVersion it cannot answer in', () => {
    expect(readExecInfo('{"apiVersion":"client.authentication.k8s.io/v1alpha1"}')).toHaveProperty('error');
  });
});

describe('login lock', () => {
  it('makes a second taker wait until the first releases', async () => {
    const path = join(dir, 'x.lock');
    const first = await acquireLock(path, { timeoutMs: 1000, staleAfterMs: 60_000 });
    const order: string[] = [];
    const second = acquireLock(path, { timeoutMs: 5000, staleAfterMs: 60_000, pollMs: 10 }).then((l) => {
      order.push('second');
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    order.push('first releases');
    first.release();
    (await second).release();
    expect(order).toEqual(['first releases', 'second']);
    expect(existsSync(path)).toBe(false);
  });
  it('times out with a clear error while someone alive holds it', async () => {
    const path = join(dir, 'x.lock');
    await acquireLock(path, { timeoutMs: 100, staleAfterMs: 60_000 });
    await expect(
      acquireLock(path, {
        timeoutMs: 100,
        staleAfterMs: 60_000,
        pollMs: 10,
        pid: process.pid + 1,
        isAlive: () => true,
      }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
  });
  it('takes over a lock whose holder process is gone', async () => {
    const path = join(dir, 'x.lock');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid as number;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(path, `${deadPid}\n`);
    const lock = await acquireLock(path, { timeoutMs: 1000, staleAfterMs: 60_000 });
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });
  it('takes over a lock file untouched for longer than the stale age', async () => {
    const path = join(dir, 'x.lock');
    writeFileSync(path, '1\n'); // pid 1 is alive: only age can free it
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    const lock = await acquireLock(path, { timeoutMs: 1000, staleAfterMs: 60_000 });
    lock.release();
  });
});

describe('browser selection', () => {
  const url = 'http://issuer/x';
  it('uses $BROWSER with the URL as last argument, or in place of %s', () => {
    expect(browserCommands(url, { env: { BROWSER: 'firefox --new-tab' }, platform: 'linux' })).toEqual([
      ['firefox', '--new-tab', url],
    ]);
    expect(browserCommands(url, { env: { BROWSER: 'w3m %s:lynx' }, platform: 'linux' })).toEqual([
      ['w3m', url],
      ['lynx', url],
    ]);
  });
  it('uses xdg-open with a display, nothing without one (device flow instead)', () => {
    expect(browserCommands(url, { env: { DISPLAY: ':0' }, platform: 'linux' })).toEqual([['xdg-open', url]]);
    expect(browserCommands(url, { env: {}, platform: 'linux' })).toEqual([]);
    expect(browserCommands(url, { env: {}, platform: 'darwin' })).toEqual([['open', url]]);
  });
});

describe('setup', () => {
  async function setup(args: string[], env: Record<string, string> = {}) {
    let stderr = '';
    const code = await runCli(['setup', ...args], {
      stdout: { write: () => true },
      stderr: { write: (c: string) => (stderr += c) },
      env: { HOME: dir, ...env },
      cwd: dir,
    });
    return { code, stderr };
  }
  const base = [
    '--issuer',
    ISSUER,
    '--cluster-name',
    'prod',
    '--server',
    'https://api.prod.example:6443',
    '--audience',
    'https://prod',
  ];

  it('merges into an existing kubeconfig without disturbing other entries or comments', async () => {
    const file = join(dir, 'existing.yaml');
    writeFileSync(
      file,
      '# my clusters\napiVersion: v1\nkind: Config\nclusters:\n  - name: other # keep me\n    cluster: { server: https://other }\nusers: []\ncontexts: []\ncurrent-context: ""\n',
    );
    expect((await setup([...base, '--kubeconfig', file])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# my clusters');
    expect(text).toContain('name: other # keep me');
    const { parse } = await import('yaml');
    const config = parse(text);
    expect(config['current-context']).toBe('prod');
    expect(config.users[0]).toEqual({
      name: 'prod-oidc',
      user: {
        exec: expect.objectContaining({
          apiVersion: 'client.authentication.k8s.io/v1',
          command: 'kube-oidc-bridge',
          args: ['login', '--issuer', ISSUER, '--audience', 'https://prod'],
          interactiveMode: 'IfAvailable',
          provideClusterInfo: false,
          installHint: expect.stringContaining('kube-oidc-bridge'),
        }),
      },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Running it again replaces the entries instead of duplicating them.
    await setup([...base, '--kubeconfig', file]);
    expect(parse(readFileSync(file, 'utf8')).users).toHaveLength(1);
  });
  it('--exec-command names the plugin as installed (krew: kubectl-oidc_bridge)', async () => {
    const file = join(dir, 'krew.yaml');
    expect((await setup([...base, '--kubeconfig', file, '--exec-command', 'kubectl-oidc_bridge'])).code).toBe(
      0,
    );
    const { parse } = await import('yaml');
    expect(parse(readFileSync(file, 'utf8')).users[0].user.exec.command).toBe('kubectl-oidc_bridge');
  });
  it('writes to the first file of $KUBECONFIG when --kubeconfig is not given', async () => {
    const first = join(dir, 'first.yaml');
    expect((await setup(base, { KUBECONFIG: `${first}:${join(dir, 'second.yaml')}` })).code).toBe(0);
    expect(existsSync(first)).toBe(true);
    expect(existsSync(join(dir, 'second.yaml'))).toBe(false);
  });
});
