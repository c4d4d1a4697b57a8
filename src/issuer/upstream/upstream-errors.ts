import {
  AuthorizationResponseError,
  ClientError,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
} from 'openid-client';
import { BridgeError, isBridgeError } from '../../core/errors.js';

/** The step of the upstream conversation that failed, for messages and logs. */
export type UpstreamStep = 'discovery' | 'authorization' | 'token' | 'userinfo' | 'refresh';

/**
 * The one place openid-client's errors become ours.
 *
 * - The IdP answered with an OAuth error (`invalid_grant`, `access_denied`, a 401 challenge…):
 *   `ERR_OAUTH`. For a refresh this means "the IdP no longer vouches for this user".
 * - Anything else (unreachable, timed out, not JSON, bad signature, wrong `iss`/`aud`/`nonce`, expired ID
 *   token): `ERR_UPSTREAM`, the IdP (or someone in between) is broken.
 *
 * The message names the upstream, the step and the OAuth error code or openid-client's error code;
 * never a token or a code (those are not in openid-client's messages, and logs redact them anyway).
 */
export function translateUpstreamError(err: unknown, upstream: string, step: UpstreamStep): BridgeError {
  if (isBridgeError(err)) return err;
  const where = `upstream ${upstream} (${step})`;
  if (err instanceof AuthorizationResponseError || err instanceof ResponseBodyError) {
    return new BridgeError('ERR_OAUTH', `${where}: the identity provider answered ${err.error}`, {
      cause: err,
    });
  }
  if (err instanceof WWWAuthenticateChallengeError) {
    const challenge = err.cause[0]?.parameters.error ?? 'unauthorized';
    return new BridgeError('ERR_OAUTH', `${where}: the identity provider answered ${challenge}`, {
      cause: err,
    });
  }
  if (err instanceof ClientError) {
    return new BridgeError('ERR_UPSTREAM', `${where}: ${err.message}${err.code ? ` (${err.code})` : ''}`, {
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new BridgeError('ERR_UPSTREAM', `${where}: ${message}`, { cause: err });
}
