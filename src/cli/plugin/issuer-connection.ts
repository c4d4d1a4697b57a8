import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { BridgeError } from '../../core/errors.js';
import { createCaFetch } from '../../http/ca-fetch.js';
import { isLoopbackHttp } from '../../http/loopback-url.js';
import { createBoundedFetch } from './bounded-fetch.js';
import { printable } from './terminal-text.js';

/**
 * The CLI's OAuth client: openid-client pointed at the issuer's RFC 8414 metadata, as the one public
 * client `clientId` (no secret; PKCE carries the proof). Plain http:// is accepted only for a loopback
 * issuer (tests, `demo`); anything else must be https, with --ca-file for a private CA. Every response
 * is read through a size cap (bounded-fetch.ts).
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
  discoveryOptions[oidc.customFetch] = createBoundedFetch();
  if (options.caFile) {
    let ca: string;
    try {
      ca = readFileSync(options.caFile, 'utf8');
    } catch (err) {
      throw new BridgeError('ERR_INPUT_INVALID', `cannot read --ca-file ${options.caFile}`, { cause: err });
    }
    discoveryOptions[oidc.customFetch] = createBoundedFetch(createCaFetch(ca));
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
 * issuer's `error` and `error_description` when there are some (they never contain a credential) —
 * from a token endpoint body and from an error redirect back to the loopback receiver alike. They are
 * server text bound for a terminal, so control characters are stripped.
 */
export function toPluginError(err: unknown, what: string): BridgeError {
  if (err instanceof BridgeError) return err;
  if (err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError) {
    const description = err.error_description ? ` (${printable(err.error_description)})` : '';
    return new BridgeError('ERR_OAUTH', `${what}: ${printable(err.error, 100)}${description}`, {
      cause: err,
    });
  }
  const cause = (err as { cause?: unknown }).cause;
  // Our own refusal (a response over its size cap), wrapped by openid-client on the way out.
  if (cause instanceof BridgeError)
    return new BridgeError(cause.code, `${what}: ${cause.message}`, { cause });
  const detail = (cause as { code?: string })?.code ?? (cause as Error)?.message ?? (err as Error).message;
  return new BridgeError('ERR_PLUGIN', `${what}: ${printable(detail)}`, { cause: err });
}
