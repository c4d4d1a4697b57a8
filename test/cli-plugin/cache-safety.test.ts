import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBrowserLaunch } from '../../src/cli/plugin/browser-brake.js';
import { cacheKey, cachePaths } from '../../src/cli/plugin/cache-location.js';
import { answerFromCache } from '../../src/cli/plugin/fast-path.js';
import { ensureCacheDir, readCacheEntry, writeCacheEntry } from '../../src/cli/plugin/token-cache.js';
import { runCliCaptured } from '../support/run-cli.js';

/**
 * The token cache must not trust a folder or a file another local user could have put there. The
 * attacker here is a real second Unix user, created for the test, that plants a token in a folder it
 * can write to; the plugin (running as us) must not hand that token to kubectl.
 */
const ISSUER = 'https://issuer.example';
const KEY = cacheKey({ issuer: ISSUER, clientId: 'kube-oidc-bridge' });
const NOW = Math.floor(Date.now() / 1000);
const planted = JSON.stringify({
  version: 1,
  issuer: ISSUER,
  clientId: 'kube-oidc-bridge',
  tokens: { '': { accessToken: 'kob_planted', expiresAt: NOW + 3600 } },
});

let root: string;
let intruder: { name: string; uid: number; gid: number } | undefined;

/** Runs a shell command as the intruder (the plugin's user must not be able to tell it from a real one). */
function asIntruder(script: string, ...args: string[]): void {
  if (!intruder) throw new Error('no intruder user');
  execFileSync(
    'setpriv',
    [
      `--reuid=${intruder.uid}`,
      `--regid=${intruder.gid}`,
      '--clear-groups',
      '--',
      'sh',
      '-c',
      script,
      'sh',
      ...args,
    ],
    { stdio: 'pipe' },
  );
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kob-cache-safety-'));
  chmodSync(root, 0o755);
  if (process.getuid?.() !== 0) return; // creating the second user needs root (CI and the dev VMs run tests as root)
  const name = `kobintruder${process.pid}`;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  intruder = { name, uid, gid };
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  if (intruder) execFileSync('userdel', [intruder.name]);
});

function fastPath(cacheDir: string): { answered: boolean; out: string } {
  let out = '';
  const answered = answerFromCache(['--issuer', ISSUER, '--cache-dir', cacheDir], {
    stdout: { write: (c: string) => (out += c) },
    env: {},
    now: () => NOW,
    parentPid: 4242,
  });
  return { answered, out };
}

async function login(cacheDir: string) {
  return runCliCaptured(['login', '--issuer', ISSUER, '--cache-dir', cacheDir], { cwd: root, env: {} });
}

describe.skipIf(process.getuid?.() !== 0)('a second Unix user planting a token', () => {
  it('in a world-writable cache folder: the fast path does not serve it, login refuses the folder and names the fix', async () => {
    const shared = join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    asIntruder('printf %s "$1" > "$2"', planted, cachePaths(shared, KEY).file);
    expect(statSync(cachePaths(shared, KEY).file).uid).toBe(intruder?.uid);

    const fast = fastPath(shared);
    expect(fast.answered).toBe(false);
    expect(fast.out).toBe('');
    const run = await login(shared);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`the token cache folder ${shared} is writable by other users (mode 1777)`);
    expect(run.stderr).toContain(`rm -r ${shared}`);
  });

  it('in a cache folder the other user owns: refused, naming the owner', async () => {
    const theirs = join(root, 'theirs');
    mkdirSync(theirs);
    chmodSync(theirs, 0o700);
    execFileSync('chown', [`${intruder?.uid}:${intruder?.gid}`, theirs]);
    asIntruder('printf %s "$1" > "$2"', planted, cachePaths(theirs, KEY).file);

    expect(fastPath(theirs).answered).toBe(false);
    const run = await login(theirs);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`belongs to another user (uid ${intruder?.uid}`);
    expect(run.stderr).toContain('--cache-dir');
  });

  it('a planted entry file of theirs inside our own folder is not read', () => {
    const ours = join(root, 'ours');
    mkdirSync(ours, { mode: 0o700 });
    const { file } = cachePaths(ours, KEY);
    writeFileSync(file, planted, { mode: 0o600 });
    execFileSync('chown', [`${intruder?.uid}:${intruder?.gid}`, file]);
    expect(readCacheEntry(file)).toBeUndefined();
    expect(fastPath(ours).answered).toBe(false);
  });
});

describe('symlinks are never followed', () => {
  it('a symlinked cache folder is refused, and its target is not chmod-ed', () => {
    const target = join(root, 'elsewhere');
    mkdirSync(target);
    chmodSync(target, 0o755);
    const link = join(root, 'link-cache');
    symlinkSync(target, link);
    expect(() => ensureCacheDir(link)).toThrow(`the token cache folder ${link} is a symbolic link`);
    expect(statSync(target).mode & 0o777).toBe(0o755);
    expect(fastPath(link).answered).toBe(false);
  });

  it('a symlinked entry is not read through', () => {
    const dir = join(root, 'entry-link');
    mkdirSync(dir, { mode: 0o700 });
    const real = join(root, 'real-entry.json');
    writeFileSync(real, planted, { mode: 0o600 });
    symlinkSync(real, cachePaths(dir, KEY).file);
    expect(readCacheEntry(cachePaths(dir, KEY).file)).toBeUndefined();
    expect(fastPath(dir).answered).toBe(false);
  });

  it('a symlinked .browser marker does not get its target truncated', () => {
    const dir = join(root, 'marker-link');
    mkdirSync(dir, { mode: 0o700 });
    const victim = join(root, 'precious.txt');
    writeFileSync(victim, 'keep me');
    const marker = cachePaths(dir, KEY).browserMarker;
    symlinkSync(victim, marker);
    expect(() => recordBrowserLaunch(marker, NOW)).toThrow(/ELOOP|symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(marker).isSymbolicLink()).toBe(true);
  });

  it('writing an entry replaces a symlink at its name instead of writing through it', () => {
    const dir = join(root, 'write-link');
    mkdirSync(dir, { mode: 0o700 });
    const victim = join(root, 'victim.json');
    writeFileSync(victim, 'keep me');
    const { file } = cachePaths(dir, KEY);
    symlinkSync(victim, file);
    writeCacheEntry(file, JSON.parse(planted));
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(file).isFile()).toBe(true);
  });
});

describe('folder modes', () => {
  it('a folder of ours that others can only read (0755) is tightened to 0700', () => {
    const dir = join(root, 'readable');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    ensureCacheDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
  it('a group-writable folder of ours is refused, not silently tightened', () => {
    const dir = join(root, 'group-writable');
    mkdirSync(dir);
    chmodSync(dir, 0o770);
    expect(() => ensureCacheDir(dir)).toThrow(/writable by other users \(mode 770\)/);
    expect(existsSync(dir)).toBe(true);
  });
});
