import * as oidc from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import type { BrowserLauncher } from './browser-launcher.js';
import { toPluginError } from './issuer-connection.js';
import { startLoopbackReceiver } from './loopback-server.js';
import { audienceParameters, type TokenSet, toTokenSet } from './token-set.js';

/**
 * Authorization code + PKCE S256 with a loopback redirect (RFC 8252 §7.3): start the receiver, send
 * the browser to the issuer, wait for the code, redeem it. The URL is always printed on stderr, so a
 * user whose browser did not open can paste it.
 */
export interface LoopbackLoginOptions {
  audience?: string;
  upstream?: string;
  listenAddress?: string;
  timeoutMs: number;
  /** Absent with --no-browser: the URL is only printed, for the user to open on this machine. */
  openBrowser?: BrowserLauncher;
  stderr: { write(chunk: string): unknown };
  now: () => number;
}

/** Outcome: tokens, or `no-browser` when no browser could be started (the caller may use the device flow). */
export async function loginWithLoopback(
  config: oidc.Configuration,
  options: LoopbackLoginOptions,
): Promise<{ status: 'ok'; tokens: TokenSet } | { status: 'no-browser'; url: string }> {
  const receiver = await startLoopbackReceiver(options.listenAddress);
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
    const callback = receiver.waitForCallback(state, options.timeoutMs);
    // Keep the rejection handled while we are still launching the browser.
    callback.catch(() => undefined);
    if (options.openBrowser && !(await options.openBrowser(url.href))) {
      return { status: 'no-browser', url: url.href };
    }
    options.stderr.write(
      `${options.openBrowser ? 'Opened a browser to log in. If it did not open, visit' : 'To log in, open this URL in a browser on this machine'}:\n\n  ${url.href}\n\nWaiting for the login to finish…\n`,
    );
    let callbackUrl: URL;
    try {
      callbackUrl = await callback;
    } catch (err) {
      throw new BridgeError('ERR_PLUGIN', `browser login: ${(err as Error).message}`, { cause: err });
    }
    try {
      const response = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      return { status: 'ok', tokens: toTokenSet(response, options.now()) };
    } catch (err) {
      throw toPluginError(err, 'browser login failed');
    }
  } finally {
    await receiver.close();
  }
}
