import { randomBytes } from 'node:crypto';
import type { TokensConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { BridgeError } from '../core/errors.js';
import { generateCredential, hashCredential, isWellFormedCredential } from '../core/token-format.js';
import type {
  AccessTokenRecord,
  RefreshTokenRecord,
  RefreshUse,
  SessionIdentity,
  SessionRecord,
  TokenStore,
} from '../store/index.js';

export interface TokenServiceOptions {
  store: TokenStore;
  clock: Clock;
  config: TokensConfig;
  /** Source of randomness for credentials and session ids; tests may pin it. */
  random?: (size: number) => Buffer;
}

export interface CreateSessionInput {
  identity: SessionIdentity;
  username: string;
  source: SessionRecord['source'];
  upstreamIssuer?: string;
  subject?: string;
  /** Already encrypted by the issuer; stored as given. */
  upstreamRefreshToken?: string;
  description?: string;
  /** Seconds; default `tokens.maxSessionLifetime`. */
  lifetime?: number;
}

/** A credential handed to a client, with its absolute expiry (epoch seconds). */
export interface IssuedCredential {
  token: string;
  expiresAt: number;
}

export type AccessTokenLookup =
  | { status: 'valid'; record: AccessTokenRecord }
  | { status: 'malformed' }
  | { status: 'unknown' }
  | { status: 'expired' };

export type RefreshRedemption =
  | { status: 'ok'; session: SessionRecord; record: RefreshTokenRecord; graceReuse: boolean }
  | {
      status: 'invalid';
      reason: 'malformed' | 'unknown' | 'expired' | 'client_mismatch' | 'session_gone';
    }
  | { status: 'reuse_detected'; sessionId: string };

/** What `inspectRefreshToken` found; nothing is consumed. */
export type RefreshInspection =
  | { status: 'ok'; session: SessionRecord; record: RefreshTokenRecord; usedAt?: number }
  | Exclude<RefreshRedemption, { status: 'ok' }>;

/**
 * Mints, looks up, rotates and revokes the bridge's opaque credentials on top of a TokenStore.
 *
 * Credentials leave this class only as return values to the caller that hands them to a client; the
 * store sees their hashes (`hashCredential`, HMAC with `tokens.pepper` when set). Every credential's
 * expiry is capped at its session's `expiresAt`, so `maxSessionLifetime` really ends a login.
 */
export class TokenService {
  private readonly store: TokenStore;
  private readonly clock: Clock;
  private readonly config: TokensConfig;
  private readonly random: (size: number) => Buffer;
  private readonly pepper: Buffer | undefined;

  constructor(options: TokenServiceOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.config = options.config;
    this.random = options.random ?? randomBytes;
    this.pepper = options.config.pepper ? Buffer.from(options.config.pepper, 'utf8') : undefined;
  }

  /** Starts a session (a login or an admin mint). Tokens are issued against it afterwards. */
  async createSession(input: CreateSessionInput): Promise<SessionRecord> {
    const now = this.clock.now();
    const lifetime = input.lifetime ?? this.config.maxSessionLifetime;
    if (!Number.isInteger(lifetime) || lifetime <= 0) {
      throw new BridgeError('ERR_INPUT_INVALID', 'session lifetime must be a positive number of seconds');
    }
    const session: SessionRecord = {
      id: this.random(16).toString('base64url'),
      identity: input.identity,
      username: input.username,
      source: input.source,
      createdAt: now,
      expiresAt: now + lifetime,
      ...(input.upstreamIssuer !== undefined && { upstreamIssuer: input.upstreamIssuer }),
      ...(input.subject !== undefined && { subject: input.subject }),
      ...(input.upstreamRefreshToken !== undefined && { upstreamRefreshToken: input.upstreamRefreshToken }),
      ...(input.description !== undefined && { description: input.description }),
    };
    await this.store.putSession(session);
    return session;
  }

  /**
   * Mints an access token for `audiences`. Lives `options.ttl` (default `tokens.accessTokenTTL`) but
   * never past the session's end.
   */
  async issueAccessToken(
    session: SessionRecord,
    audiences: string[],
    options: { ttl?: number } = {},
  ): Promise<IssuedCredential> {
    const now = this.clock.now();
    const expiresAt = this.cappedExpiry(session, now, options.ttl ?? this.config.accessTokenTTL);
    const token = generateCredential('access', this.random);
    await this.store.putAccessToken(this.hash(token), {
      sessionId: session.id,
      username: session.username,
      identity: session.identity,
      audiences: [...audiences],
      expiresAt,
    });
    return { token, expiresAt };
  }

  /** Mints a refresh token bound to `clientId`; lives `tokens.refreshTokenTTL`, capped at the session's end. */
  async issueRefreshToken(
    session: SessionRecord,
    clientId: string,
    audiences: string[],
  ): Promise<IssuedCredential> {
    const now = this.clock.now();
    const expiresAt = this.cappedExpiry(session, now, this.config.refreshTokenTTL);
    const token = generateCredential('refresh', this.random);
    await this.store.putRefreshToken(this.hash(token), {
      sessionId: session.id,
      clientId,
      audiences: [...audiences],
      expiresAt,
    });
    return { token, expiresAt };
  }

  /**
   * The review path: shape check first (a mistyped or foreign token costs no store round trip), then
   * one store read. This is the one place access-token expiry is decided: the store keeps an expired
   * record for EXPIRED_ACCESS_TOKEN_RETENTION seconds, so a recently expired token is `expired` (the
   * review metric's `expired` label), a long-gone one `unknown`. Throws
   * StoreUnavailableError when the store cannot answer: never a denial, never a success.
   */
  async lookupAccessToken(token: string): Promise<AccessTokenLookup> {
    if (!isWellFormedCredential(token, 'access')) return { status: 'malformed' };
    const record = await this.store.getAccessToken(this.hash(token));
    if (record === undefined) return { status: 'unknown' };
    if (record.expiresAt <= this.clock.now()) return { status: 'expired' };
    return { status: 'valid', record };
  }

  /**
   * Redeems a refresh token (the caller then rotates: issues a new access and refresh token).
   *
   * The first use wins. A second use within `tokens.refreshReuseGrace` seconds of the first also
   * succeeds (`graceReuse: true`): kubectl processes started together refresh concurrently, and
   * refusing the loser would log the user out (dex#1976). A use after the grace window means the
   * token leaked or a client replays it: the whole session is revoked (RFC 9700 §4.14.2) and
   * `reuse_detected` returned.
   */
  async redeemRefreshToken(token: string, clientId: string): Promise<RefreshRedemption> {
    if (!isWellFormedCredential(token, 'refresh')) return { status: 'invalid', reason: 'malformed' };
    const use = await this.store.useRefreshToken(this.hash(token));
    const vetted = await this.#vetRefreshUse(use, clientId);
    if (vetted.status !== 'ok') return vetted;
    return { ...vetted, graceReuse: use.status === 'reused' };
  }

  /**
   * Checks a refresh token *without* using it: the refresh grant validates everything that can fail
   * (client, audience, the user at the upstream IdP) first and only then calls `redeemRefreshToken`,
   * so a refused or failed request does not count as a use. `usedAt` tells a token already used
   * within the grace window (a concurrent twin's); a use after the window is reuse, and revokes the
   * session here as `redeemRefreshToken` would (RFC 9700 §4.14.2).
   */
  async inspectRefreshToken(token: string, clientId: string): Promise<RefreshInspection> {
    if (!isWellFormedCredential(token, 'refresh')) return { status: 'invalid', reason: 'malformed' };
    const use = await this.store.peekRefreshToken(this.hash(token));
    const vetted = await this.#vetRefreshUse(use, clientId);
    if (vetted.status !== 'ok') return vetted;
    return { ...vetted, ...(use.status === 'reused' && { usedAt: use.firstUsedAt }) };
  }

  /**
   * The checks a use and a peek of a refresh token share, in order: known, not expired, not reused
   * past the grace window (which revokes the session), the client it was issued to, its session.
   */
  async #vetRefreshUse(
    use: RefreshUse,
    clientId: string,
  ): Promise<
    | { status: 'ok'; session: SessionRecord; record: RefreshTokenRecord }
    | Exclude<RefreshRedemption, { status: 'ok' }>
  > {
    if (use.status === 'unknown') return { status: 'invalid', reason: 'unknown' };
    const { record } = use;
    const now = this.clock.now();
    if (record.expiresAt <= now) return { status: 'invalid', reason: 'expired' };
    if (use.status === 'reused' && now - use.firstUsedAt > this.config.refreshReuseGrace) {
      await this.store.revokeSession(record.sessionId);
      return { status: 'reuse_detected', sessionId: record.sessionId };
    }
    if (record.clientId !== clientId) return { status: 'invalid', reason: 'client_mismatch' };
    const session = await this.store.getSession(record.sessionId);
    if (session === undefined) return { status: 'invalid', reason: 'session_gone' };
    return { status: 'ok', session, record };
  }

  /** Stores a changed session (refreshed upstream claims, rotated upstream refresh token). */
  async updateSession(session: SessionRecord): Promise<void> {
    await this.store.putSession(session);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    return this.store.getSession(id);
  }

  /** Revokes the whole session an access token belongs to; returns that session for the audit line. */
  async revokeAccessToken(token: string): Promise<SessionRecord | undefined> {
    if (!isWellFormedCredential(token, 'access')) return undefined;
    const hash = this.hash(token);
    const record = await this.store.getAccessToken(hash);
    if (record === undefined) return undefined;
    const session = await this.revokeFamily(record.sessionId);
    await this.store.deleteAccessToken(hash);
    return session;
  }

  /** Revokes the grant a refresh token belongs to (RFC 7009 §2.1: the whole session). */
  async revokeRefreshToken(token: string): Promise<SessionRecord | undefined> {
    if (!isWellFormedCredential(token, 'refresh')) return undefined;
    const hash = this.hash(token);
    const use = await this.store.useRefreshToken(hash);
    if (use.status === 'unknown') return undefined;
    const session = await this.revokeFamily(use.record.sessionId);
    await this.store.deleteRefreshToken(hash);
    return session;
  }

  async revokeSession(id: string): Promise<boolean> {
    return this.store.revokeSession(id);
  }

  async revokeUser(username: string): Promise<number> {
    return this.store.revokeUser(username);
  }

  async listSessions(filter?: { username?: string }): Promise<SessionRecord[]> {
    return this.store.listSessions(filter);
  }

  private async revokeFamily(sessionId: string): Promise<SessionRecord | undefined> {
    const session = await this.store.getSession(sessionId);
    await this.store.revokeSession(sessionId);
    return session;
  }

  private cappedExpiry(session: SessionRecord, now: number, ttl: number): number {
    const expiresAt = Math.min(now + ttl, session.expiresAt);
    if (expiresAt <= now) throw new BridgeError('ERR_SESSION_ENDED', 'the session has ended');
    return expiresAt;
  }

  private hash(token: string): string {
    return hashCredential(token, this.pepper);
  }
}
