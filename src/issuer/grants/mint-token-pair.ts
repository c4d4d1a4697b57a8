import type { IssuerConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import type { SessionRecord } from '../../store/index.js';
import type { TokenService } from '../../tokens/index.js';
import type { GrantOutcome, GrantType } from './grant-outcome.js';

export interface MintDeps {
  issuer: IssuerConfig;
  tokens: TokenService;
  clock: Clock;
}

/**
 * A successful token response (RFC 6749 §5.1): an access token for exactly one audience (a token for
 * one cluster must not pass at another) and a new refresh token for the same session. The refresh
 * token's audiences are every cluster this grant has been used for: informational, since any
 * configured cluster may be asked for on refresh (one login, several clusters).
 */
export async function mintTokenPair(
  deps: MintDeps,
  grant: GrantType,
  result: string,
  session: SessionRecord,
  audience: string,
  grantAudiences: readonly string[],
  upstream?: string,
): Promise<GrantOutcome> {
  const now = deps.clock.now();
  const access = await deps.tokens.issueAccessToken(session, [audience]);
  const audiences = [...new Set([...grantAudiences, audience])];
  const refresh = await deps.tokens.issueRefreshToken(session, deps.issuer.cli.clientID, audiences);
  return {
    ok: true,
    grant,
    result,
    body: {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: Math.max(1, access.expiresAt - now),
      refresh_token: refresh.token,
    },
    minted: {
      sessionId: session.id,
      username: session.username,
      audience,
      expiresAt: access.expiresAt,
      ...(upstream !== undefined && { upstream }),
    },
  };
}
