import type { OAuthErrorCode } from '../error-table.js';

/** The grants of the token endpoint, as audit and metrics name them. */
export type GrantType = 'authorization_code' | 'refresh_token' | 'device_code';

/** The body of a successful token response (RFC 6749 §5.1). */
export interface TokenResponseBody {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

/** Who got tokens, for the audit line and metrics (never a credential). */
export interface MintedFor {
  sessionId: string;
  username: string;
  audience: string;
  expiresAt: number;
  upstream?: string;
}

/** A session a grant ended, and why (refresh-token reuse, code reuse, the upstream said no). */
export interface EndedSession {
  sessionId: string;
  reason: 'refresh_token_reuse' | 'authorization_code_reuse' | 'upstream_refused';
  username?: string;
  detail?: string;
}

/**
 * How a grant ended: a value, like the verifier's ReviewDecision. `result` is the metric label
 * (`kob_refreshes_total{result}` for refreshes); the endpoint renders the rest through the one OAuth
 * error table, and grant-instruments.ts records metrics and audit from it in one place.
 */
export type GrantOutcome =
  | {
      ok: true;
      grant: GrantType;
      result: string;
      body: TokenResponseBody;
      minted: MintedFor;
    }
  | {
      ok: false;
      grant: GrantType;
      result: string;
      error: OAuthErrorCode;
      description?: string;
      ended?: EndedSession;
    };

/** A refused grant. */
export function refused(
  grant: GrantType,
  result: string,
  error: OAuthErrorCode,
  description?: string,
  ended?: EndedSession,
): GrantOutcome {
  return {
    ok: false,
    grant,
    result,
    error,
    ...(description !== undefined && { description }),
    ...(ended && { ended }),
  };
}
