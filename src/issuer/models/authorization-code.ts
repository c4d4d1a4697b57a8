import { hashCredential } from '../../core/token-format.js';
import type { TokenStore } from '../../store/index.js';
import type { GrantedLogin } from './granted-login.js';

/**
 * The one-time authorization code (RFC 6749 §4.1.2): 256 random bits, stored only as a hash (store
 * namespace `code`, TTL `issuer.cli.authorizationCodeTTL`), bound to the client, the exact redirect
 * URI, the PKCE challenge and the audience of the request that started the login. This model owns the
 * `code` keys: the record, and the marker a redeemed code leaves so a second use can be detected.
 */
export interface AuthorizationCodeRecord {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  audience: string;
  login: GrantedLogin;
}

/**
 * How long a redeemed code is remembered: a second use within this window revokes the session its
 * first use created (RFC 6749 §4.1.2: the code was intercepted, or the client is broken).
 */
const REDEEMED_CODE_MEMORY_SECONDS = 600;

const key = (code: string) => hashCredential(code);
const redeemedKey = (code: string) => `redeemed:${hashCredential(code)}`;

export class AuthorizationCodes {
  constructor(private readonly store: TokenStore) {}

  issue(code: string, record: AuthorizationCodeRecord, ttl: number): Promise<void> {
    return this.store.putEphemeral('code', key(code), record, ttl);
  }

  /** Reads the code without using it: the grant validates the request first. */
  find(code: string): Promise<AuthorizationCodeRecord | undefined> {
    return this.store.getEphemeral<AuthorizationCodeRecord>('code', key(code));
  }

  /** Uses the code: atomic get-and-delete, so of two concurrent redemptions exactly one gets it. */
  take(code: string): Promise<AuthorizationCodeRecord | undefined> {
    return this.store.takeEphemeral<AuthorizationCodeRecord>('code', key(code));
  }

  rememberRedeemed(code: string, sessionId: string): Promise<void> {
    return this.store.putEphemeral('code', redeemedKey(code), { sessionId }, REDEEMED_CODE_MEMORY_SECONDS);
  }

  /** The session a redeemed code created, once (the reuse it reveals is acted on once). */
  takeRedeemed(code: string): Promise<{ sessionId: string } | undefined> {
    return this.store.takeEphemeral<{ sessionId: string }>('code', redeemedKey(code));
  }
}
