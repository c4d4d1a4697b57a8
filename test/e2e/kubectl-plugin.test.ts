import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { hashCredential } from '../../src/core/token-format.js';
import { finished, type PluginUser, type PluginWorld, startPluginWorld } from '../cli-plugin/plugin-world.js';
import { DEV_AUDIENCE } from '../oauth/issuer-harness.js';
import { approveDeviceCode } from '../oauth/login-driver.js';

/**
 * The kubectl exec credential plugin end to end: kubectl 1.35 configured by `setup`, the apiserver
 * double, the verifier and the issuer on a real Redis, oidc-provider upstream, a fake browser behind
 * $BROWSER that clicks through the login.
 */

function cachedEntry(user: PluginUser): {
  tokens: Record<string, { accessToken: string }>;
  refreshToken?: string;
} {
  const file = readdirSync(user.cacheDir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error('no cache entry');
  return JSON.parse(readFileSync(join(user.cacheDir, file), 'utf8'));
}

function issuerHits(world: PluginWorld, path: string): number {
  return world.harness.proxy.requests.filter((r) => r.split(' ')[1]?.startsWith(path)).length;
}

describe('kubectl with the kube-oidc-bridge exec plugin', () => {
  let world: PluginWorld;
  beforeAll(async () => {
    world = await startPluginWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('first login via loopback: kubectl opens the browser once and is authenticated as the mapped user', async () => {
    const user = world.newUser();
    expect((await user.setup()).code).toBe(0);
    const result = await user.kubectl(['get', '--raw', '/version']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty('gitVersion');
    expect(user.browserLaunches()).toBe(1);
    const whoami = await user.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({
      username: 'alice@example.com',
      groups: expect.arrayContaining(['oidc:platform', 'oidc:developers', 'system:authenticated']),
    });
  });

  it('second kubectl call is served from the cache without touching the issuer', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
    const before = world.harness.proxy.requests.length;
    const second = await user.kubectl(['get', '--raw', '/version']);
    expect(second.code).toBe(0);
    expect(world.harness.proxy.requests.length).toBe(before);
    expect(user.browserLaunches()).toBe(1);
  });

  it('cache folder is 0700 and its files 0600', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
    expect(statSync(user.cacheDir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(user.cacheDir))
      expect(statSync(join(user.cacheDir, f)).mode & 0o777).toBe(0o600);
    expect(statSync(user.kubeconfig).mode & 0o777).toBe(0o600);
  });

  it('8 concurrent kubectl processes with an empty cache: exactly one login, all 8 succeed', async () => {
    const user = world.newUser();
    await user.setup();
    const logins = issuerHits(world, '/oauth2/authorize');
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => user.kubectl(['get', '--raw', '/version'])),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(user.browserLaunches()).toBe(1);
    expect(issuerHits(world, '/oauth2/authorize') - logins).toBe(1);
  });

  it('v1beta1 kubeconfig: the plugin answers in client.authentication.k8s.io/v1beta1', async () => {
    const user = world.newUser();
    await user.setup();
    const doc = parseDocument(readFileSync(user.kubeconfig, 'utf8'));
    doc.setIn(['users', 0, 'user', 'exec', 'apiVersion'], 'client.authentication.k8s.io/v1beta1');
    writeFileSync(user.kubeconfig, doc.toString());
    const result = await user.kubectl(['get', '--raw', '/version']);
    expect(result.code, result.stderr).toBe(0);
    const byHand = await finished(
      user.spawnPlugin(['login', '--issuer', world.harness.url, '--audience', DEV_AUDIENCE], {
        KUBERNETES_EXEC_INFO: JSON.stringify({
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          kind: 'ExecCredential',
          spec: { interactive: false },
        }),
      }),
    );
    expect(JSON.parse(byHand.stdout)).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      status: { token: expect.stringMatching(/^kob_/) },
    });
  });

  it('non-interactive without a cache: at most one browser launch, then a clear error', async () => {
    const user = world.newUser();
    mkdirSync(dirname(user.kubeconfig), { recursive: true });
    world.double.writeKubeconfig(user.kubeconfig, {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: 'kube-oidc-bridge',
        args: ['login', '--issuer', world.harness.url, '--audience', DEV_AUDIENCE, '--timeout', '2s'],
        interactiveMode: 'IfAvailable',
      },
    });
    const ignore = { FAKE_BROWSER_MODE: 'ignore' };
    const first = await user.kubectl(['--kubeconfig', user.kubeconfig, 'get', '--raw', '/version'], ignore);
    expect(first.code).not.toBe(0);
    const second = await user.kubectl(['--kubeconfig', user.kubeconfig, 'get', '--raw', '/version'], ignore);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(
      `kube-oidc-bridge login --issuer ${world.harness.url} --audience ${DEV_AUDIENCE}`,
    );
    expect(second.stderr).toMatch(/not interactive/);
    expect(user.browserLaunches()).toBe(1);
  });

  it('kubectl runs the plugin on the Node.js running the tests (each CI runtime tests its own plugin)', async () => {
    const user = world.newUser();
    await user.setup();
    const runtimeLog = join(user.home, 'runtime.log');
    const preload = join(import.meta.dirname, '..', 'cli-plugin', 'fixtures', 'record-runtime.cjs');
    const env = { NODE_OPTIONS: `--require ${JSON.stringify(preload)}`, RUNTIME_LOG: runtimeLog };
    expect((await user.kubectl(['get', '--raw', '/version'], env)).code).toBe(0);
    expect((await user.kubectl(['get', '--raw', '/version'], env)).code).toBe(0);
    const runs = readFileSync(runtimeLog, 'utf8').trim().split('\n');
    // Login (plugin + fake browser), then the cached answer: every process on this runtime.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(new Set(runs)).toEqual(new Set([`${process.version} ${process.execPath}`]));
  });

  it('device flow end to end: code on stderr, approved on /device, then kubectl runs from the cache', async () => {
    const user = world.newUser();
    await user.setup();
    const child = user.spawnPlugin([
      'login',
      '--issuer',
      world.harness.url,
      '--audience',
      DEV_AUDIENCE,
      '--device',
    ]);
    const done = finished(child);
    const userCode = await new Promise<string>((resolve) => {
      let seen = '';
      child.stderr?.on('data', (c: Buffer) => {
        seen += c.toString();
        const match = /\b([B-Z]{4}-[B-Z]{4})\b/.exec(seen);
        if (match?.[1]) resolve(match[1]);
      });
    });
    const approval = await approveDeviceCode(world.harness.url, userCode);
    expect(approval.body).toContain('Device signed in');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).status.token).toMatch(/^kob_/);
    const kubectl = await user.kubectl(['get', '--raw', '/version']);
    expect(kubectl.code, kubectl.stderr).toBe(0);
    expect(user.browserLaunches()).toBe(0);
  });

  it('logout revokes at the issuer: the next review of the old token is authenticated:false', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
    const token = cachedEntry(user).tokens[DEV_AUDIENCE]?.accessToken ?? '';
    world.double.clearCache();
    expect((await world.double.authenticate(token)).result).toBe('authenticated');
    const logout = await finished(user.spawnPlugin(['logout', '--issuer', world.harness.url]));
    expect(logout.code, logout.stderr).toBe(0);
    expect(readdirSync(user.cacheDir).filter((f) => f.endsWith('.json'))).toEqual([]);
    world.double.clearCache();
    expect((await world.double.authenticate(token)).result).not.toBe('authenticated');
  });

  it('whoami prints the username and groups the cluster sees', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
    const whoami = await finished(
      user.spawnPlugin(['whoami', '--issuer', world.harness.url, '--audience', DEV_AUDIENCE]),
    );
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toMatch(/Username\s+alice@example\.com/);
    expect(whoami.stdout).toMatch(/Groups\s+oidc:platform, oidc:developers/);
  });

  it('@kubernetes/client-node uses the same kubeconfig (its exec auth) and is authenticated', async () => {
    const user = world.newUser();
    await user.setup();
    const k8s = await import('@kubernetes/client-node');
    const saved = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BROWSER: process.env.BROWSER,
      LOG: process.env.FAKE_BROWSER_LOG,
    };
    Object.assign(process.env, user.env());
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(user.kubeconfig);
      const version = await kc.makeApiClient(k8s.VersionApi).getCode();
      expect(version.gitVersion).toMatch(/^v1\./);
    } finally {
      process.env.PATH = saved.PATH;
      process.env.HOME = saved.HOME;
      if (saved.BROWSER === undefined) delete process.env.BROWSER;
      if (saved.LOG === undefined) delete process.env.FAKE_BROWSER_LOG;
    }
    expect(user.browserLaunches()).toBe(1);
    expect(world.double.requests.at(-1)).toMatchObject({ path: '/version', status: 200 });
  });
});

describe('kubectl plugin with short-lived access tokens', () => {
  let world: PluginWorld;
  beforeAll(async () => {
    // 25 s tokens are below the cache's 30 s margin: every kubectl run after the login refreshes.
    world = await startPluginWorld({ accessTokenTTL: 25 });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('refresh after expiry: the next kubectl call refreshes silently, without a browser', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
    const refreshesBefore = issuerHits(world, '/oauth2/token');
    const second = await user.kubectl(['get', '--raw', '/version']);
    expect(second.code, second.stderr).toBe(0);
    expect(issuerHits(world, '/oauth2/token')).toBe(refreshesBefore + 1);
    expect(user.browserLaunches()).toBe(1);
  });

  it('upstream refusing the refresh: a clear error, then a login by hand restores kubectl', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
    world.harness.idp.failNext('token', 'invalid_grant');
    const refused = await user.kubectl(['get', '--raw', '/version']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`kube-oidc-bridge login --issuer ${world.harness.url}`);
    const login = await finished(
      user.spawnPlugin(['login', '--issuer', world.harness.url, '--audience', DEV_AUDIENCE]),
    );
    expect(login.code, login.stderr).toBe(0);
    expect(user.browserLaunches()).toBe(2);
    expect((await user.kubectl(['get', '--raw', '/version'])).code).toBe(0);
  });
});

/** Waits until `child` has written something to stderr that matches `pattern`; returns the match. */
function stderrMatch(
  child: ReturnType<PluginUser['spawnPlugin']>,
  pattern: RegExp,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stderr?.on('data', (c: Buffer) => {
      seen += c.toString();
      const match = pattern.exec(seen);
      if (match) resolve(match);
    });
    child.on('close', () => reject(new Error(`exited before printing ${pattern}: ${seen}`)));
  });
}

const USER_CODE = /\b([B-Z]{4}-[B-Z]{4})\b/;
const execInfo = (interactive: boolean) =>
  JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    spec: { interactive },
  });

describe('the kubectl plugin on real workstations', () => {
  let world: PluginWorld;
  beforeAll(async () => {
    world = await startPluginWorld();
  });
  afterAll(async () => {
    await world?.close();
  });
  const loginArgs = () => ['login', '--issuer', world.harness.url, '--audience', DEV_AUDIENCE];

  it('BROWSER=/bin/false, not interactive: exits non-zero within 2 s, naming the command to run in a terminal', async () => {
    const user = world.newUser();
    // The 2 s are the plugin's own budget: what merely starting it and loading the login code costs on
    // this (shared, possibly loaded) machine right now is measured with --help and allowed on top.
    const startup = Date.now();
    await finished(user.spawnPlugin([...loginArgs(), '--help']));
    const startupMs = Date.now() - startup;
    const started = Date.now();
    const child = user.spawnPlugin(loginArgs(), {
      BROWSER: '/bin/false',
      KUBERNETES_EXEC_INFO: execInfo(false),
    });
    const timer = setTimeout(() => child.kill(), 20_000);
    const result = await finished(child);
    clearTimeout(timer);
    const elapsed = Date.now() - started;
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the browser did not open (/bin/false exited with status 1)');
    expect(result.stderr).toContain(
      `Log in from a terminal, then retry:\n\n  kube-oidc-bridge ${loginArgs().join(' ')}`,
    );
    expect(result.stderr).not.toMatch(/Waiting for the login/);
    expect(elapsed - startupMs).toBeLessThan(2000);
    // Nothing was opened, so the next run is not told "a browser was already opened".
    const again = await finished(
      user.spawnPlugin(loginArgs(), { BROWSER: '/bin/false', KUBERNETES_EXEC_INFO: execInfo(false) }),
    );
    expect(again.stderr).toContain('the browser did not open (/bin/false exited with status 1)');
  });

  it('BROWSER=/bin/false, interactive: prints the URL and offers the device flow in the same run', async () => {
    const user = world.newUser();
    const child = user.spawnPlugin(loginArgs(), {
      BROWSER: '/bin/false',
      KUBERNETES_EXEC_INFO: execInfo(true),
    });
    const done = finished(child);
    const [, userCode] = await stderrMatch(child, USER_CODE);
    const approval = await approveDeviceCode(world.harness.url, userCode as string);
    expect(approval.body).toContain('Device signed in');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).status.token).toMatch(/^kob_/);
    expect(result.stderr).toContain(`${world.harness.url}/oauth2/authorize?`);
    expect(result.stderr).toContain('The browser did not open (/bin/false exited with status 1)');
    expect(result.stderr).toContain(
      'Open the URL above in a browser on this machine, or log in from another device.',
    );
  });

  it('over SSH without a display: a device code straight away, no browser tried', async () => {
    const user = world.newUser();
    const child = user.spawnPlugin([...loginArgs()], {
      SSH_CONNECTION: '10.0.0.2 50000 10.0.0.1 22',
      DISPLAY: '',
    });
    const done = finished(child);
    const [, userCode] = await stderrMatch(child, USER_CODE);
    await approveDeviceCode(world.harness.url, userCode as string);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      'No browser can be opened here (this is an SSH session without a display)',
    );
    expect(result.stderr).not.toContain('/oauth2/authorize');
    expect(user.browserLaunches()).toBe(0);
  });

  it('a browser login the issuer refuses (unknown --audience): its error and error_description are printed', async () => {
    const user = world.newUser();
    const result = await finished(
      user.spawnPlugin(['login', '--issuer', world.harness.url, '--audience', 'https://nowhere.example']),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('browser login failed: invalid_target (unknown audience)');
    expect(user.browserLaunches()).toBe(1);
  });

  it('after an interactive login, one stderr line says whom the issuer signed us in as', async () => {
    const user = world.newUser();
    const result = await finished(user.spawnPlugin(loginArgs()));
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('signed in to'));
    expect(lines).toEqual([
      `signed in to ${world.harness.url} as alice@example.com (groups oidc:platform, oidc:developers)`,
    ]);
    // The cached answer after it says nothing.
    const cached = await finished(user.spawnPlugin(loginArgs()));
    expect(cached.stderr).toBe('');
  });

  // client-go re-runs the plugin after a 401 but does not resend the refused request: the command that
  // met the refusal still fails, and it is the plugin's second run (same kubectl parent) that replaces
  // the token, so the next command works instead of failing until the token expires.
  it('a token the cluster refused (session revoked at the issuer): one new login, then kubectl works again', async () => {
    const user = world.newUser();
    await user.setup();
    // Logged in by hand in a terminal, so the non-interactive browser brake has not fired yet.
    expect((await finished(user.spawnPlugin(loginArgs()))).code).toBe(0);
    expect((await user.kubectl(['auth', 'whoami', '-o', 'json'])).code).toBe(0);
    const revoked = cachedEntry(user).tokens[DEV_AUDIENCE]?.accessToken ?? '';
    expect(await world.harness.tokens.revokeAccessToken(revoked)).toBeDefined();
    world.double.clearCache();

    const refused = await user.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(refused.stderr).toContain('The cluster refused the cached token; getting a new one.');
    expect(world.double.requests.at(-1)).toMatchObject({ status: 401 });
    expect(cachedEntry(user).tokens[DEV_AUDIENCE]?.accessToken).not.toBe(revoked);
    expect(user.browserLaunches()).toBe(2);

    const next = await user.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).status.userInfo.username).toBe('alice@example.com');
    expect(user.browserLaunches()).toBe(2);
  });

  it('a token the cluster no longer knows (lost in a store failover): a silent refresh, no browser', async () => {
    const user = world.newUser();
    await user.setup();
    expect((await finished(user.spawnPlugin(loginArgs()))).code).toBe(0);
    expect((await user.kubectl(['auth', 'whoami', '-o', 'json'])).code).toBe(0);
    const lost = cachedEntry(user).tokens[DEV_AUDIENCE]?.accessToken ?? '';
    await world.harness.store.deleteAccessToken(hashCredential(lost));
    world.double.clearCache();
    const refreshes = issuerHits(world, '/oauth2/token');

    const refused = await user.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(refused.stderr).toContain('The cluster refused the cached token; getting a new one.');
    expect(issuerHits(world, '/oauth2/token')).toBe(refreshes + 1);
    const next = await user.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(next.code, next.stderr).toBe(0);
    expect(user.browserLaunches()).toBe(1);
  });
});
