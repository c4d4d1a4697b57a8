import type { Claims } from '../../core/identity.js';
import type { SessionRecord } from '../../store/index.js';
import type { TokenService } from '../../tokens/index.js';
import type { CompletedLogin } from '../login/types.js';

/**
 * A finished upstream login waiting to be redeemed (in an authorization code or an approved device
 * record). The session is only created when the client redeems it, so a login whose code is never
 * used leaves no session behind.
 */
export interface GrantedLogin {
  upstream: string;
  upstreamIssuer: string;
  subject: string;
  claims: Claims;
  username: string;
  /** Encrypted by the issuer's SecretBox. */
  upstreamRefreshToken?: string;
}

export function toGrantedLogin(login: CompletedLogin): GrantedLogin {
  return {
    upstream: login.upstream.name,
    upstreamIssuer: login.upstreamIssuer,
    subject: login.subject,
    claims: login.claims,
    username: login.user.username,
    ...(login.upstreamRefreshToken !== undefined && { upstreamRefreshToken: login.upstreamRefreshToken }),
  };
}

/**
 * The session behind the CLI's tokens. Its identity is the upstream *claims*, mapped at review time,
 * so a rule change applies to live tokens; its lifetime is `tokens.maxSessionLifetime`.
 */
export function createCliSession(tokens: TokenService, login: GrantedLogin): Promise<SessionRecord> {
  return tokens.createSession({
    identity: { kind: 'claims', upstream: login.upstream, claims: login.claims },
    username: login.username,
    source: 'cli',
    upstreamIssuer: login.upstreamIssuer,
    subject: login.subject,
    ...(login.upstreamRefreshToken !== undefined && { upstreamRefreshToken: login.upstreamRefreshToken }),
  });
}
