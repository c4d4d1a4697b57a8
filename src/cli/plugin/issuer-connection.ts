import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import { createCaFetch } from '../../http/ca-fetch.js';
import { isLoopbackHttp } from '../../http/loopback-url.js';

/**
 * The CLI's OAuth client: openid-client pointed at the issuer's RFC 8414 metadata, as the one public
 * client `clientId` (no secret; PKCE carries the proof). Plain http:// is accepted only for a loopback
 * issuer (tests, `demo`); anything else must be https, with --ca-file for a private CA.
 */
export interface IssuerConnectionOptions {
  issuer: string;
  clientId: string;
  caFile?: string;
}

/** Runs discovery and returns the openid-client Configuration. */
export async function connectToIssuer(options: IssuerConnectionOptions): Promise<oidc.Configuration> {
  let server: URL;
  try {
    server = new URL(options.issuer);
  } catch {
    throw new BridgeError('ERR_INPUT_INVALID', `--issuer is not a URL: ${options.issuer}`);
  }
  if (server.protocol !== 'https:' && !isLoopbackHttp(server)) {
    throw new BridgeError('ERR_INPUT_INVALID', `--issuer must be an https:// URL (got ${options.issuer})`);
  }
  const discoveryOptions: oidc.DiscoveryRequestOptions = { timeout: 15 };
  if (isLoopbackHttp(server)) discoveryOptions.execute = [oidc.allowInsecureRequests];
  if (options.caFile) {
    let ca: string;
    try {
      ca = readFileSync(options.caFile, 'utf8');
    } catch (err) {
      throw new BridgeError('ERR_INPUT_INVALID', `cannot read --ca-file ${options.caFile}`, { cause: err });
    }
    discoveryOptions[oidc.customFetch] = createCaFetch(ca);
  }
  try {
    return await oidc.discovery(server, options.clientId, undefined, oidc.None(), discoveryOptions);
  } catch (err) {
    throw toPluginError(err, `cannot reach the issuer at ${options.issuer}`);
  }
}

/** The OAuth error code of a failed grant (`invalid_grant`…), when the issuer answered with one. */
export function oauthErrorCode(err: unknown): string | undefined {
  return err instanceof oidc.ResponseBodyError ? err.error : undefined;
}

/**
 * openid-client's errors become ours in this one place: the message says what happened, with the
 * issuer's error_description when there is one (it never contains a credential).
 */
export function toPluginError(err: unknown, what: string): BridgeError {
  if (err instanceof BridgeError) return err;
  if (err instanceof oidc.ResponseBodyError) {
    return new BridgeError(
      'ERR_OAUTH',
      `${what}: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`,
      {
        cause: err,
      },
    );
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error).message;
  return new BridgeError('ERR_PLUGIN', `${what}: ${detail}`, { cause: err });
}
