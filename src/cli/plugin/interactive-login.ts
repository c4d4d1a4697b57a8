import type { Configuration } from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import {
  forgetBrowserLaunch,
  mayLaunchBrowser,
  NON_INTERACTIVE_BROWSER_INTERVAL,
  recordBrowserLaunch,
} from './browser-brake.js';
import type { BrowserLauncher } from './browser-launcher.js';
import { loginWithDevice } from './device-login.js';
import type { IssuerTarget, LoginOptions } from './login-options.js';
import { loginWithLoopback } from './loopback-login.js';
import { announceIdentity } from './signed-in-as.js';
import type { TokenSet } from './token-set.js';

/**
 * A login with the user: which way in (browser, device code, a printed URL) depending on what the
 * terminal and the machine allow, and what to say when none works.
 *
 * - `--device`, or no browser possible here (SSH without a display): the device flow, straight away.
 * - Interactive: the browser; when it does not open, the printed URL and the device flow side by side.
 * - Not interactive (k9s, an IDE, a pipe): the browser at most once per brake interval, and when it
 *   does not open, fail at once with the command to run in a terminal — never wait on nothing.
 */
export interface InteractiveLoginDeps {
  stderr: { write(chunk: string): unknown };
  now: () => number;
  interactive: boolean;
  browser: BrowserLauncher;
}

/** The command to log in by hand; every "you must log in" message ends with it. */
export function loginCommand(target: IssuerTarget): string {
  const parts = ['kube-oidc-bridge login', `--issuer ${target.issuer}`];
  if (target.audience) parts.push(`--audience ${target.audience}`);
  if (target.upstream) parts.push(`--upstream ${target.upstream}`);
  return parts.join(' ');
}

export async function loginWithUser(
  config: Configuration,
  options: LoginOptions,
  deps: InteractiveLoginDeps,
  browserMarker: string,
): Promise<TokenSet> {
  const tokens = await chooseAndLogin(config, options, deps, browserMarker);
  await announceIdentity(config, options.issuer, tokens.accessToken, deps.stderr);
  return tokens;
}

async function chooseAndLogin(
  config: Configuration,
  options: LoginOptions,
  deps: InteractiveLoginDeps,
  browserMarker: string,
): Promise<TokenSet> {
  const common = {
    audience: options.audience,
    timeoutMs: options.timeoutMs,
    stderr: deps.stderr,
    now: deps.now,
  };
  const loopback = { ...common, upstream: options.upstream, listenAddress: options.listenAddress };
  const advice = `Log in from a terminal, then retry:\n\n  ${loginCommand(options)}\n`;
  const unavailable = options.noBrowser ? undefined : deps.browser.unavailable;

  if (!deps.interactive) {
    if (options.device) throw new BridgeError('ERR_PLUGIN', `the device flow needs a terminal. ${advice}`);
    if (unavailable) {
      throw new BridgeError(
        'ERR_PLUGIN',
        `not logged in, and no browser can be opened (${unavailable}). ${advice}`,
      );
    }
    if (!mayLaunchBrowser(browserMarker, deps.now(), NON_INTERACTIVE_BROWSER_INTERVAL)) {
      throw new BridgeError(
        'ERR_PLUGIN',
        `not logged in, and kubectl is not interactive (a browser was already opened in the last ${NON_INTERACTIVE_BROWSER_INTERVAL / 60} minutes). ${advice}`,
      );
    }
    recordBrowserLaunch(browserMarker, deps.now());
    const result = await loginWithLoopback(config, { ...loopback, browser: deps.browser });
    if (result.status === 'ok') return result.tokens;
    forgetBrowserLaunch(browserMarker);
    throw new BridgeError(
      'ERR_PLUGIN',
      `not logged in, and the browser did not open (${result.reason}). ${advice}`,
    );
  }
  if (options.device) return loginWithDevice(config, common);
  if (unavailable) {
    deps.stderr.write(`No browser can be opened here (${unavailable}); using the device flow.\n`);
    return loginWithDevice(config, common);
  }
  const result = await loginWithLoopback(config, {
    ...loopback,
    browser: options.noBrowser ? undefined : deps.browser,
    whenBrowserFails: (_reason, signal) => loginWithDevice(config, { ...common, signal }),
  });
  if (result.status === 'ok') return result.tokens;
  throw new BridgeError('ERR_PLUGIN', `the browser did not open (${result.reason}). ${advice}`);
}
