import type { UserInfo } from '../../core/identity.js';
import type { SessionRecord } from '../../store/index.js';
import type { IssuerContext } from '../issuer-context.js';
import type { WebSessionCookie } from './web-session-cookie.js';

export type ResultDeps = Pick<IssuerContext, 'tokens' | 'mapping' | 'upstreams'>;

export type ResultOutcome =
  /** No sign-in in this browser, or (`ended`) one whose session was revoked or ran out. */
  | { kind: 'signed-out'; ended: boolean }
  /** The rules no longer accept the user the session is for. */
  | { kind: 'refused' }
  /** The sign-in to show: who the cluster sees, and the cookie's tokens. */
  | { kind: 'result'; user: UserInfo; upstreamLabel: string; cookie: WebSessionCookie };

/** The identity the verifier derives from a session, with the same rules (docs/design.md §4). */
function userAsVerifierSees(deps: ResultDeps, session: SessionRecord): UserInfo | undefined {
  const identity = session.identity;
  const outcome =
    identity.kind === 'claims'
      ? deps.mapping.forUpstream(identity.upstream).mapClaims(identity.claims)
      : deps.mapping.forUpstream().checkUser(identity.user, { allowSystem: identity.allowSystem ?? false });
  return outcome.ok ? outcome.user : undefined;
}

/**
 * What the result page shows for the browser's sealed session cookie: rebuilt from the cookie and the
 * live session, so a revoked session shows the start page again, never a dead token.
 */
export async function showResult(
  deps: ResultDeps,
  cookie: WebSessionCookie | undefined,
): Promise<ResultOutcome> {
  const session = cookie ? await deps.tokens.getSession(cookie.sessionId) : undefined;
  if (!cookie || !session) return { kind: 'signed-out', ended: cookie !== undefined };
  const user = userAsVerifierSees(deps, session);
  if (!user) return { kind: 'refused' };
  const upstream = deps.upstreams.get(cookie.upstream);
  return { kind: 'result', user, upstreamLabel: upstream?.displayName ?? cookie.upstream, cookie };
}

export interface SignOutOutcome {
  /** The session the browser's cookie named, if it had one. */
  sessionId?: string;
  /** Whether that session was live and is now revoked. */
  revoked: boolean;
}

/**
 * Sign-out: revokes the browser's session at the store — every token of this sign-in stops working at
 * the next review the apiserver does not answer from its cache.
 */
export async function signOut(
  deps: Pick<IssuerContext, 'tokens'>,
  cookie: WebSessionCookie | undefined,
): Promise<SignOutOutcome> {
  if (!cookie) return { revoked: false };
  const revoked = await deps.tokens.revokeSession(cookie.sessionId);
  return { sessionId: cookie.sessionId, revoked };
}
