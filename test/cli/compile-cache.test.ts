import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CompileCacheHost,
  compileCacheDir,
  type EnableCompileCache,
  enableCompileCache,
} from '../../src/cli/compile-cache.js';

/**
 * The CLI's compile cache: on from Node 22.1 in a private per-user folder, nothing at all before,
 * and never in a folder someone else could write (a cache entry is code the next run executes).
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'kob-compile-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let cases = 0;

/** A fresh home folder and a host whose `enableCompileCache` records the folders it is handed. */
function world(overrides: Partial<CompileCacheHost> = {}) {
  cases += 1;
  const home = join(root, `home-${cases}`);
  mkdirSync(home);
  const handed: string[] = [];
  const enable: EnableCompileCache = (directory) => {
    handed.push(directory);
    return { status: 1, directory };
  };
  const host: CompileCacheHost = { enable, home, uid: process.getuid?.(), ...overrides };
  return { home, host, handed, dir: join(home, '.cache', 'kube-oidc-bridge', 'compile-cache') };
}

describe('where the compile cache lives', () => {
  it('under an absolute XDG_CACHE_HOME, else under ~/.cache; a relative XDG_CACHE_HOME is ignored', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/var/cache/u' }, '/home/u')).toBe(
      '/var/cache/u/kube-oidc-bridge/compile-cache',
    );
    expect(compileCacheDir({}, '/home/u')).toBe('/home/u/.cache/kube-oidc-bridge/compile-cache');
    expect(compileCacheDir({ XDG_CACHE_HOME: 'cache' }, '/home/u')).toBe(
      '/home/u/.cache/kube-oidc-bridge/compile-cache',
    );
    expect(compileCacheDir({}, undefined)).toBeUndefined();
  });

  it('is created private (0700) and handed to Node', () => {
    const w = world();
    expect(enableCompileCache({}, w.host)).toBe('enabled');
    expect(w.handed).toEqual([w.dir]);
    expect(statSync(w.dir).mode & 0o777).toBe(0o700);
  });
});

describe('when the compile cache stays off', () => {
  const refusals: {
    name: string;
    env?: Record<string, string>;
    host?: Partial<CompileCacheHost>;
    prepare?: (w: ReturnType<typeof world>) => void;
    outcome: string;
  }[] = [
    {
      name: 'Node before 22.1 (no module.enableCompileCache)',
      host: { enable: undefined },
      outcome: 'unavailable',
    },
    {
      name: 'NODE_COMPILE_CACHE chosen by the user',
      env: { NODE_COMPILE_CACHE: '/x' },
      outcome: 'left-to-node',
    },
    {
      name: 'NODE_DISABLE_COMPILE_CACHE set',
      env: { NODE_DISABLE_COMPILE_CACHE: '1' },
      outcome: 'left-to-node',
    },
    { name: 'no home folder and no XDG_CACHE_HOME', host: { home: undefined }, outcome: 'no-folder' },
    {
      name: 'the folder is open to group and others',
      prepare: (w) => {
        mkdirSync(w.dir, { recursive: true });
        chmodSync(w.dir, 0o777);
      },
      outcome: 'unsafe-folder',
    },
    {
      name: 'the folder is a link (even to a private folder)',
      prepare: (w) => {
        const target = join(w.home, 'elsewhere');
        mkdirSync(target, { mode: 0o700 });
        mkdirSync(join(w.dir, '..'), { recursive: true });
        symlinkSync(target, w.dir);
      },
      outcome: 'unsafe-folder',
    },
    {
      name: 'the folder belongs to another user',
      host: { uid: (process.getuid?.() ?? 0) + 1 },
      outcome: 'unsafe-folder',
    },
    {
      name: 'a file stands where the folder should be',
      prepare: (w) => {
        mkdirSync(join(w.dir, '..'), { recursive: true });
        writeFileSync(w.dir, '');
      },
      outcome: 'failed',
    },
    {
      name: 'Node refuses the folder',
      host: { enable: () => ({ status: 0, message: 'no' }) },
      outcome: 'failed',
    },
  ];

  it.each(refusals)('$name → $outcome', ({ env, host, prepare, outcome }) => {
    const w = world(host);
    prepare?.(w);
    expect(enableCompileCache(env ?? {}, w.host)).toBe(outcome);
    if (outcome !== 'failed') expect(w.handed).toEqual([]);
    if (outcome === 'unavailable' || outcome === 'left-to-node') expect(existsSync(w.dir)).toBe(false);
  });
});

describe('the built CLI', () => {
  const hasCompileCache =
    typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

  it(`${hasCompileCache ? 'fills the private cache folder' : 'creates no cache folder'} on Node ${process.version}`, () => {
    const cacheHome = join(root, 'xdg');
    const run = () =>
      spawnSync(process.execPath, [join(repoRoot, 'bin', 'kube-oidc-bridge.js'), '--version'], {
        env: { PATH: process.env.PATH, XDG_CACHE_HOME: cacheHome },
        encoding: 'utf8',
      });
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stderr).toBe('');
    const dir = join(cacheHome, 'kube-oidc-bridge', 'compile-cache');
    if (!hasCompileCache) {
      expect(existsSync(dir)).toBe(false);
      return;
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir, { recursive: true }).length).toBeGreaterThan(1);
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });
});
