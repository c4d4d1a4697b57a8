import type { TokenStore } from '../../store/index.js';
import { AuthorizationCodes } from '../models/authorization-code.js';
import { createCliSession } from '../models/granted-login.js';
import { chooseAudience } from '../oauth/audience.js';
import { verifyS256 } from '../oauth/pkce.js';
import { type GrantOutcome, refused } from './grant-outcome.js';
import { type MintDeps, mintTokenPair } from './mint-token-pair.js';

export interface AuthorizationCodeGrantDeps extends MintDeps {
  store: TokenStore;
}

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3 with RFC 7636 §4.6 and RFC 8707 §2.2), validating
 * before it consumes: the code is *read*, and client, redirect URI, PKCE verifier and the requested
 * resource/audience must all match what the authorization request bound to it. Only then is the code
 * taken (atomically, single use) and the login turned into a session.
 *
 * Decisions: a failed PKCE check, another redirect URI or a mismatched `resource`/`audience` does not
 * burn the code. The verifier has 256 bits and the code lives `issuer.cli.authorizationCodeTTL`, so
 * guessing is hopeless; burning it would only let whoever saw the code (another process on the
 * loopback port) deny the real client its login. A second *successful* use is refused and revokes what
 * the first issued (RFC 6749 §4.1.2, RFC 9700 §4.2.4). A request naming a resource other than the
 * authorized one is `invalid_target` (RFC 8707 §2.2), never silently answered for the authorized one.
 */
export async function authorizationCodeGrant(
  deps: AuthorizationCodeGrantDeps,
  input: { clientId: string; params: URLSearchParams },
): Promise<GrantOutcome> {
  const { params } = input;
  const code = params.get('code');
  const verifier = params.get('code_verifier');
  if (!code || !verifier) {
    return refused('authorization_code', 'invalid', 'invalid_request', 'code and code_verifier are required');
  }
  const codes = new AuthorizationCodes(deps.store);
  const record = await codes.find(code);
  if (!record) {
    const reused = await codes.takeRedeemed(code);
    if (reused) await deps.tokens.revokeSession(reused.sessionId);
    return refused(
      'authorization_code',
      reused ? 'code_reuse' : 'unknown',
      'invalid_grant',
      'authorization code unknown, used or expired',
      reused ? { sessionId: reused.sessionId, reason: 'authorization_code_reuse' } : undefined,
    );
  }
  if (record.clientId !== input.clientId) {
    return refused('authorization_code', 'invalid', 'invalid_grant', 'code issued to another client');
  }
  if (params.get('redirect_uri') !== record.redirectUri) {
    return refused(
      'authorization_code',
      'invalid',
      'invalid_grant',
      'redirect_uri does not match the authorization request',
    );
  }
  if (!verifyS256(verifier, record.codeChallenge)) {
    return refused('authorization_code', 'pkce_mismatch', 'invalid_grant', 'PKCE verification failed');
  }
  const asked = chooseAudience(deps.issuer, params, record.audience);
  if (!asked.ok || asked.audience !== record.audience) {
    return refused(
      'authorization_code',
      'invalid_target',
      'invalid_target',
      'resource/audience differs from the authorization request',
    );
  }
  const taken = await codes.take(code);
  if (!taken) {
    return refused(
      'authorization_code',
      'unknown',
      'invalid_grant',
      'authorization code unknown, used or expired',
    );
  }
  const session = await createCliSession(deps.tokens, taken.login);
  await codes.rememberRedeemed(code, session.id);
  return mintTokenPair(
    deps,
    'authorization_code',
    'success',
    session,
    taken.audience,
    [taken.audience],
    taken.login.upstream,
  );
}
