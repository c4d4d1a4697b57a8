import { spawn } from 'node:child_process';

/**
 * Opens a URL in the user's browser. `$BROWSER` wins (a `:`-separated list of commands, tried in
 * order; `%s` in a command is replaced by the URL, otherwise the URL is the last argument); then the
 * platform opener. On Linux without a display there is nothing to open, and the caller falls back to
 * the device flow.
 *
 * The browser is detached and never shares our stdout: stdout carries the ExecCredential.
 */
export type BrowserLauncher = (url: string) => Promise<boolean>;

export interface BrowserEnvironment {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
}

/** Command lines to try for a URL, best first. Empty when no browser can be opened. */
export function browserCommands(url: string, { env, platform }: BrowserEnvironment): string[][] {
  if (env.BROWSER) {
    return env.BROWSER.split(':')
      .map((entry) => entry.trim().split(/\s+/).filter(Boolean))
      .filter((words) => words.length > 0)
      .map((words) =>
        words.some((w) => w.includes('%s')) ? words.map((w) => w.replaceAll('%s', url)) : [...words, url],
      );
  }
  if (platform === 'darwin') return [['open', url]];
  if (platform === 'win32') return [['rundll32', 'url.dll,FileProtocolHandler', url]];
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return [];
  return [['xdg-open', url]];
}

function trySpawn(command: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const [file, ...args] = command as [string, ...string[]];
    const child = spawn(file, args, { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

/** A launcher for the given environment; resolves false when no command could be started. */
export function createBrowserLauncher(environment: BrowserEnvironment): BrowserLauncher {
  return async (url) => {
    for (const command of browserCommands(url, environment)) {
      if (await trySpawn(command)) return true;
    }
    return false;
  };
}
