import { spawn } from 'node:child_process';

/**
 * Opens a URL in the user's browser, and tells the truth about it.
 *
 * Which command: over SSH without a display there is no browser that could reach our loopback port
 * (pinniped#457), so none — the caller goes straight to the device flow. Otherwise `$BROWSER` wins
 * (a `:`-separated list of commands, tried in order; `%s` in a command is replaced by the URL,
 * otherwise the URL is the last argument); on WSL the Windows browser, since WSL2 forwards the
 * loopback to Windows (`wslview`, else `cmd.exe /c start`, else `powershell.exe Start-Process`;
 * kubelogin#535); then the platform opener.
 *
 * Whether it worked: a command that cannot be started (ENOENT) or exits non-zero within a few seconds
 * failed, and the next one is tried; one that exits 0, or is still running (a browser that stays in
 * the foreground), opened. The browser is detached and never shares our stdout: stdout carries the
 * ExecCredential.
 */
export interface BrowserEnvironment {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** `os.release()`: a WSL kernel says "microsoft" in it. */
  osRelease?: string;
}

export type LaunchResult = { status: 'opened'; command: string } | { status: 'failed'; reason: string };

export interface BrowserLauncher {
  /** Undefined when a browser can be tried here; otherwise why not (shown to the user). */
  unavailable: string | undefined;
  open(url: string): Promise<LaunchResult>;
}

/** How long a launcher may run before we take "still running" for "opened". */
export const LAUNCH_SETTLE_MS = 3000;

function hasDisplay(env: Record<string, string | undefined>): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** An SSH session (the variables sshd sets) with no forwarded display. */
export function isSshWithoutDisplay(env: Record<string, string | undefined>): boolean {
  return Boolean(env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY) && !hasDisplay(env);
}

/** Windows Subsystem for Linux: its init sets these variables; its kernel names itself. */
export function isWsl({ env, platform, osRelease }: BrowserEnvironment): boolean {
  if (platform !== 'linux') return false;
  return Boolean(env.WSL_DISTRO_NAME || env.WSL_INTEROP) || /microsoft/i.test(osRelease ?? '');
}

/** cmd.exe treats `& | < > ^ ( )` as syntax even in an argument: escape them with `^`. */
function cmdEscape(url: string): string {
  return url.replace(/[&|<>^()]/g, '^$&');
}

/** Command lines to try for a URL, best first. Empty when no browser can be opened here. */
export function browserCommands(url: string, environment: BrowserEnvironment): string[][] {
  const { env, platform } = environment;
  if (platform !== 'win32' && isSshWithoutDisplay(env)) return [];
  if (env.BROWSER) {
    return env.BROWSER.split(':')
      .map((entry) => entry.trim().split(/\s+/).filter(Boolean))
      .filter((words) => words.length > 0)
      .map((words) =>
        words.some((w) => w.includes('%s')) ? words.map((w) => w.replaceAll('%s', url)) : [...words, url],
      );
  }
  if (isWsl(environment)) {
    return [
      ['wslview', url],
      ['cmd.exe', '/c', 'start', cmdEscape(url)],
      [
        'powershell.exe',
        '-NoProfile',
        '-NonInteractive',
        '-Command',
        `Start-Process '${url.replaceAll("'", "''")}'`,
      ],
    ];
  }
  if (platform === 'darwin') return [['open', url]];
  if (platform === 'win32') return [['rundll32', 'url.dll,FileProtocolHandler', url]];
  if (!hasDisplay(env)) return [];
  return [['xdg-open', url]];
}

function trySpawn(
  command: string[],
  env: Record<string, string | undefined>,
  settleMs: number,
): Promise<LaunchResult> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(file, args, { detached: true, stdio: 'ignore', env });
    const settle = setTimeout(() => {
      child.removeAllListeners();
      child.unref();
      resolve({ status: 'opened', command: file });
    }, settleMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(settle);
      resolve({
        status: 'failed',
        reason: `${file}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`,
      });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(settle);
      if (code === 0) resolve({ status: 'opened', command: file });
      else
        resolve({
          status: 'failed',
          reason: `${file} exited with ${signal ? `signal ${signal}` : `status ${code}`}`,
        });
    });
  });
}

/** A launcher for the given environment. */
export function createBrowserLauncher(
  environment: BrowserEnvironment,
  settleMs = LAUNCH_SETTLE_MS,
): BrowserLauncher {
  let unavailable: string | undefined;
  if (environment.platform !== 'win32' && isSshWithoutDisplay(environment.env)) {
    unavailable = 'this is an SSH session without a display';
  } else if (browserCommands('x', environment).length === 0) {
    unavailable = 'there is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  }
  return {
    unavailable,
    async open(url) {
      const failures: string[] = [];
      for (const command of browserCommands(url, environment)) {
        const result = await trySpawn(command, environment.env, settleMs);
        if (result.status === 'opened') return result;
        failures.push(result.reason);
      }
      return { status: 'failed', reason: failures.join('; ') || (unavailable ?? 'no browser command') };
    },
  };
}
