import type { UserInfo } from '../core/identity.js';
import type { ReviewDecision, ReviewResult, TokenReviewRequest } from '../verifier/index.js';

/** How the proxy judged a request's credential. */
export type ProxyAuthentication =
  | { kind: 'user'; user: UserInfo; sessionId?: string }
  /** A bearer token that is not ours, forwarded untouched (only with `tokenPassthrough`). */
  | { kind: 'passthrough' }
  | {
      kind: 'denied';
      /** `missing` (no bearer token) or the verifier's denial result. */
      result: 'missing' | Exclude<ReviewResult, 'authenticated'>;
      reason: string;
      sessionId?: string;
      username?: string;
    };

export interface ProxyAuthenticator {
  /** The verifier's decision for one token at this proxy's audiences; throws when the store fails. */
  decide(review: TokenReviewRequest): Promise<ReviewDecision>;
  tokenPassthrough: boolean;
}

/**
 * The bearer token as the apiserver's bearer authenticator reads it: trim, split at spaces, a
 * case-insensitive `Bearer` scheme and a non-empty second part.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const parts = authorization.trim().split(' ', 3);
  if (parts.length < 2 || parts[0]?.toLowerCase() !== 'bearer') return undefined;
  return parts[1] === '' ? undefined : parts[1];
}

/** Our credentials (`kob_` access and `kobrt_` refresh tokens) are never passed through. */
function isOurs(token: string): boolean {
  return token.startsWith('kob');
}

/**
 * Authenticates one proxied request with exactly the verifier's decision: the same ladder (store
 * lookup, audiences, mapping, `system:` guard, revocation), asked as a TokenReview without
 * `spec.audiences`, so the token must have been minted for one of `proxy.audiences`. A store failure
 * propagates (503, never a pass-through).
 */
export async function authenticateRequest(
  authorization: string | undefined,
  authenticator: ProxyAuthenticator,
): Promise<ProxyAuthentication> {
  const token = bearerToken(authorization);
  if (token === undefined) return { kind: 'denied', result: 'missing', reason: 'no bearer token' };
  if (authenticator.tokenPassthrough && !isOurs(token)) return { kind: 'passthrough' };
  const decision = await authenticator.decide({
    apiVersion: 'authentication.k8s.io/v1',
    token,
    audiences: [],
  });
  if (decision.status.authenticated) {
    return { kind: 'user', user: decision.status.user, sessionId: decision.sessionId };
  }
  return {
    kind: 'denied',
    result: decision.result as Exclude<ReviewResult, 'authenticated'>,
    reason: decision.reason ?? decision.result,
    sessionId: decision.sessionId,
    username: decision.username,
  };
}
