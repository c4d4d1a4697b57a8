import * as oidc from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import type { BrowserLauncher } from './browser-launcher.js';
import { toPluginError } from './issuer-connection.js';
import { startLoopbackReceiver } from './loopback-server.js';
import { audienceParameters, type TokenSet, toTokenSet } from './token-set.js';

/**
 * Authorization code + PKCE S256 with a loopback redirect (RFC 8252 §7.3): start the receiver, print
 * the URL, send the browser to the issuer, wait for the code, redeem it. The URL is printed before the
 * browser is launched, so a user whose browser does not open can always paste it.
 *
 * A launcher that fails is reported as it happens — never "opened a browser" followed by minutes of
 * waiting (kubelogin#1611). Then `whenBrowserFails` decides: without it the login ends at once with
 * `browser-failed` (nobody may be watching); with it (an interactive terminal) the receiver stays open
 * for the URL pasted by hand while the fallback (the device flow) runs, and the first to finish wins.
 */
export interface LoopbackLoginOptions {
  audience?: string;
  upstream?: string;
  listenAddress?: string;
  timeoutMs: number;
  /** Absent with --no-browser: the URL is only printed, for the user to open on this machine. */
  browser?: BrowserLauncher;
  /** Another way in, started when the browser could not be opened; must stop when `signal` aborts. */
  whenBrowserFails?: (reason: string, signal: AbortSignal) => Promise<TokenSet>;
  stderr: { write(chunk: string): unknown };
  now: () => number;
}

export type LoopbackOutcome =
  | { status: 'ok'; tokens: TokenSet }
  | { status: 'browser-failed'; reason: string };

export async function loginWithLoopback(
  config: oidc.Configuration,
  options: LoopbackLoginOptions,
): Promise<LoopbackOutcome> {
  const receiver = await startLoopbackReceiver(options.listenAddress);
  const stopFallback = new AbortController();
  try {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: receiver.redirectUri,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...audienceParameters(options.audience),
      ...(options.upstream ? { upstream: options.upstream } : {}),
    });
    const redeemed = receiver.waitForCallback(state, options.timeoutMs).then(
      async (callbackUrl) => {
        try {
          const response = await oidc.authorizationCodeGrant(config, callbackUrl, {
            pkceCodeVerifier: verifier,
            expectedState: state,
          });
          return toTokenSet(response, options.now());
        } catch (err) {
          throw toPluginError(err, 'browser login failed');
        }
      },
      (err: Error) => {
        throw new BridgeError('ERR_PLUGIN', `browser login: ${err.message}`, { cause: err });
      },
    );
    // Keep the rejection handled while we are still launching the browser.
    redeemed.catch(() => undefined);
    options.stderr.write(
      `${options.browser ? 'Log in with your browser. If it does not open, visit' : 'To log in, open this URL in a browser on this machine'}:\n\n  ${url.href}\n\n`,
    );
    const launched = options.browser
      ? await Promise.race([options.browser.open(url.href), redeemed.then(() => undefined)])
      : undefined;
    if (launched?.status !== 'failed') {
      options.stderr.write('Waiting for the login to finish…\n');
      return { status: 'ok', tokens: await redeemed };
    }
    options.stderr.write(`The browser did not open (${launched.reason}).\n`);
    if (!options.whenBrowserFails) return { status: 'browser-failed', reason: launched.reason };
    options.stderr.write('Open the URL above in a browser on this machine, or log in from another device.\n');
    // A fallback that cannot start (no device flow at this issuer) leaves the pasted URL as the way in.
    const fallback = options.whenBrowserFails(launched.reason, stopFallback.signal).catch((err: Error) => {
      if (!stopFallback.signal.aborted) options.stderr.write(`${err.message}\n`);
      return redeemed;
    });
    return { status: 'ok', tokens: await Promise.race([redeemed, fallback]) };
  } finally {
    stopFallback.abort();
    await receiver.close();
  }
}
