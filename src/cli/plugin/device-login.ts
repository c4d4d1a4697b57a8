import * as oidc from 'openid-client';
import { toPluginError } from './issuer-connection.js';
import { printable } from './terminal-text.js';
import { audienceParameters, type TokenSet, toTokenSet } from './token-set.js';

/**
 * RFC 8628 device authorization grant, for SSH sessions and machines without a browser: print a URL
 * and a short code on stderr, then poll the token endpoint (openid-client honours `interval` and
 * `slow_down`) until the user approves on another device, refuses, or the code expires.
 */
export interface DeviceLoginOptions {
  audience?: string;
  timeoutMs: number;
  stderr: { write(chunk: string): unknown };
  now: () => number;
  /** Stops polling (another way in finished first). */
  signal?: AbortSignal;
}

export async function loginWithDevice(
  config: oidc.Configuration,
  options: DeviceLoginOptions,
): Promise<TokenSet> {
  let authorization: oidc.DeviceAuthorizationResponse;
  try {
    authorization = await oidc.initiateDeviceAuthorization(config, audienceParameters(options.audience));
  } catch (err) {
    throw toPluginError(err, 'device login could not start');
  }
  // Server text on the user's terminal: no control characters (terminal-text.ts).
  const complete = authorization.verification_uri_complete;
  options.stderr.write(
    `To log in, open ${printable(authorization.verification_uri)} on any device and enter the code\n\n  ${printable(authorization.user_code, 64)}\n\n` +
      (complete ? `or open this link directly:\n\n  ${printable(complete)}\n\n` : '') +
      'Waiting for the login to finish…\n',
  );
  try {
    const response = await oidc.pollDeviceAuthorizationGrant(config, authorization, undefined, {
      signal: AbortSignal.any([
        AbortSignal.timeout(Math.min(options.timeoutMs, authorization.expires_in * 1000)),
        ...(options.signal ? [options.signal] : []),
      ]),
    });
    return toTokenSet(response, options.now());
  } catch (err) {
    throw toPluginError(err, 'device login failed');
  }
}
