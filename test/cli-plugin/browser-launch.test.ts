import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  browserCommands,
  createBrowserLauncher,
  isSshWithoutDisplay,
  isWsl,
} from '../../src/cli/plugin/browser-launcher.js';

/**
 * Which browser command the plugin picks, and whether it notices that it failed. The launchers are
 * small shell scripts on a PATH of their own, standing in for wslview, cmd.exe and powershell.exe.
 */
let bin: string;
let log: string;
beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'kob-launchers-'));
  log = join(bin, 'launches.log');
});
afterEach(() => rmSync(bin, { recursive: true, force: true }));

/** A fake launcher: appends `NAME ARGS…` to the log and exits with `status`. */
function fakeLauncher(name: string, status = 0): void {
  const file = join(bin, name);
  writeFileSync(file, `#!/bin/sh\necho "${name} $*" >> "${log}"\nexit ${status}\n`);
  chmodSync(file, 0o755);
}
const launches = () => {
  try {
    return readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};
const URL_WITH_QUERY = 'http://127.0.0.1:9/oauth2/authorize?client_id=k&state=s';

describe('browser selection on WSL (the Windows browser reaches the WSL2 loopback)', () => {
  const wsl = () => ({ env: { PATH: bin, WSL_DISTRO_NAME: 'Ubuntu' }, platform: 'linux' as const });

  it('is recognised from WSL_DISTRO_NAME, WSL_INTEROP or a Microsoft kernel', () => {
    expect(isWsl({ env: { WSL_DISTRO_NAME: 'Ubuntu' }, platform: 'linux' })).toBe(true);
    expect(isWsl({ env: { WSL_INTEROP: '/run/WSL/1_interop' }, platform: 'linux' })).toBe(true);
    expect(isWsl({ env: {}, platform: 'linux', osRelease: '5.15.167.4-microsoft-standard-WSL2' })).toBe(true);
    expect(isWsl({ env: {}, platform: 'linux', osRelease: '6.1.0-13-amd64' })).toBe(false);
  });
  it('uses wslview when it is installed', async () => {
    fakeLauncher('wslview');
    fakeLauncher('cmd.exe');
    const result = await createBrowserLauncher(wsl()).open(URL_WITH_QUERY);
    expect(result).toEqual({ status: 'opened', command: 'wslview' });
    expect(launches()).toEqual([`wslview ${URL_WITH_QUERY}`]);
  });
  it('falls back to cmd.exe /c start without wslview, escaping & for cmd', async () => {
    fakeLauncher('cmd.exe');
    fakeLauncher('powershell.exe');
    const result = await createBrowserLauncher(wsl()).open(URL_WITH_QUERY);
    expect(result).toEqual({ status: 'opened', command: 'cmd.exe' });
    expect(launches()).toEqual([`cmd.exe /c start ${URL_WITH_QUERY.replace('&', '^&')}`]);
  });
  it('falls back to powershell.exe Start-Process when wslview fails and cmd.exe is missing', async () => {
    fakeLauncher('wslview', 3);
    fakeLauncher('powershell.exe');
    const result = await createBrowserLauncher(wsl()).open(URL_WITH_QUERY);
    expect(result).toEqual({ status: 'opened', command: 'powershell.exe' });
    expect(launches()).toEqual([
      `wslview ${URL_WITH_QUERY}`,
      `powershell.exe -NoProfile -NonInteractive -Command Start-Process '${URL_WITH_QUERY}'`,
    ]);
  });
  it('reports every attempt when none of the three works', async () => {
    fakeLauncher('wslview', 1);
    const result = await createBrowserLauncher(wsl()).open(URL_WITH_QUERY);
    expect(result.status).toBe('failed');
    expect(result).toMatchObject({
      reason: 'wslview exited with status 1; cmd.exe: command not found; powershell.exe: command not found',
    });
  });
  it('still lets $BROWSER win', () => {
    expect(browserCommands(URL_WITH_QUERY, { ...wsl(), env: { ...wsl().env, BROWSER: 'firefox' } })).toEqual([
      ['firefox', URL_WITH_QUERY],
    ]);
  });
});

describe('a launcher that fails is noticed', () => {
  const linux = (BROWSER: string) => ({
    env: { PATH: `${bin}:/usr/bin:/bin`, BROWSER },
    platform: 'linux' as const,
  });

  it('BROWSER=/bin/false: failed, with its exit status', async () => {
    expect(await createBrowserLauncher(linux('/bin/false')).open(URL_WITH_QUERY)).toEqual({
      status: 'failed',
      reason: '/bin/false exited with status 1',
    });
  });
  it('a $BROWSER command that does not exist: failed, command not found', async () => {
    expect(await createBrowserLauncher(linux('/nonexistent/browser')).open(URL_WITH_QUERY)).toEqual({
      status: 'failed',
      reason: '/nonexistent/browser: command not found',
    });
  });
  it('the next $BROWSER entry is tried after a failure', async () => {
    fakeLauncher('good-browser');
    expect(await createBrowserLauncher(linux('/bin/false:good-browser')).open(URL_WITH_QUERY)).toEqual({
      status: 'opened',
      command: 'good-browser',
    });
  });
  it('a browser that stays in the foreground counts as opened once it has run for the settle time', async () => {
    const file = join(bin, 'slow-browser');
    writeFileSync(file, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(file, 0o755);
    const started = Date.now();
    const result = await createBrowserLauncher(linux('slow-browser'), 200).open(URL_WITH_QUERY);
    expect(result).toEqual({ status: 'opened', command: 'slow-browser' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('SSH sessions without a display go to the device flow', () => {
  const ssh = { SSH_CONNECTION: '10.0.0.2 50000 10.0.0.1 22', BROWSER: 'firefox' };

  it('no browser command at all, not even $BROWSER, and the launcher says why', () => {
    expect(isSshWithoutDisplay(ssh)).toBe(true);
    expect(browserCommands(URL_WITH_QUERY, { env: ssh, platform: 'linux' })).toEqual([]);
    expect(createBrowserLauncher({ env: ssh, platform: 'linux' }).unavailable).toMatch(
      /SSH session without a display/,
    );
  });
  it('with a forwarded display ($DISPLAY), the browser is used as usual', () => {
    const forwarded = { ...ssh, DISPLAY: 'localhost:10.0' };
    expect(isSshWithoutDisplay(forwarded)).toBe(false);
    expect(browserCommands(URL_WITH_QUERY, { env: forwarded, platform: 'linux' })).toEqual([
      ['firefox', URL_WITH_QUERY],
    ]);
  });
});
