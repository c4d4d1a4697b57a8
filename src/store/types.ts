import type { Claims, UserInfo } from '../core/identity.js';

/**
 * Who a session is. `static` identities were minted by an admin (`token mint --username`) and are
 * used as written; `claims` identities carry the upstream IdP's claims (allow-listed) and are mapped
 * by the rules at review time, so a rule change applies to live tokens.
 */
export type SessionIdentity =
  | { kind: 'static'; user: UserInfo; allowSystem?: boolean }
  | { kind: 'claims'; upstream: string; claims: Claims; allowSystem?: boolean };

/** A login (or an admin mint). Tokens hang off a session; revoking it kills them all. */
export interface SessionRecord {
  id: string;
  identity: SessionIdentity;
  /** Username as mapped when the session was made: the key for listing and per-user revocation. */
  username: string;
  /** Upstream issuer URL and `sub`, when the session came from an OIDC login. */
  upstreamIssuer?: string;
  subject?: string;
  source: 'admin' | 'web' | 'cli';
  createdAt: number;
  /** Absolute end of the session (max lifetime). The session key's TTL ends here. */
  expiresAt: number;
  /** Upstream refresh token, encrypted at rest (see issuer). Never plaintext, never shown. */
  upstreamRefreshToken?: string;
  /** Free-form note for `token list` (e.g. "minted by admin"). */
  description?: string;
}

/**
 * What an access token's key holds: everything a review needs in one read (identity snapshot,
 * audiences, expiry), so the review path costs one store round trip. The identity is a copy of the
 * session's: on Redis Cluster the session lives in another slot, out of a single read's reach.
 */
export interface AccessTokenRecord {
  sessionId: string;
  /** The session's username when the token was minted: names the user in denials' log lines. */
  username: string;
  identity: SessionIdentity;
  audiences: string[];
  expiresAt: number;
}

/** A refresh token. One family per session; rotated on every use. */
export interface RefreshTokenRecord {
  sessionId: string;
  clientId: string;
  audiences: string[];
  expiresAt: number;
}

/** Result of presenting a refresh token; the store marks it used atomically. */
export type RefreshUse =
  | { status: 'unknown' }
  /** First use: rotate. */
  | { status: 'fresh'; record: RefreshTokenRecord }
  /** Used before, `firstUsedAt` says when: the caller applies the grace window or revokes the family. */
  | { status: 'reused'; record: RefreshTokenRecord; firstUsedAt: number };

/** Short-lived records that are not credentials: login state, authorization codes, device codes. */
export type EphemeralNamespace = 'login' | 'code' | 'device' | 'user-code' | 'csrf' | 'lock';

/**
 * The token store contract. Two implementations (memory, Redis) pass one contract suite.
 *
 * Invariants every implementation keeps:
 * - keys are credential *hashes* (see `hashCredential`); a raw credential never reaches the store;
 * - every key expires (TTL from the record's `expiresAt` or the given ttl); nothing lives forever;
 * - reads never return a record whose `expiresAt` is at or before the clock's `now()` — except
 *   `getAccessToken`, which returns an expired record for EXPIRED_ACCESS_TOKEN_RETENTION seconds so
 *   that the token service, the one owner of access-token expiry, can tell `expired` from `unknown`;
 * - infrastructure failures throw `StoreUnavailableError`; "not found" is `undefined`, never an error.
 */
export interface TokenStore {
  readonly kind: 'memory' | 'redis';

  putSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Sessions still alive, optionally only one user's, oldest first. */
  listSessions(filter?: { username?: string }): Promise<SessionRecord[]>;
  /** Deletes the session and every access/refresh token issued for it. False when it did not exist. */
  revokeSession(id: string): Promise<boolean>;
  /** Revokes every session of `username`; returns how many. */
  revokeUser(username: string): Promise<number>;
  /**
   * How many sessions are alive, for the active-sessions gauge. Cheap enough for every scrape: one
   * count over the session index on Redis (logarithmic in its size), no record is read.
   */
  countSessions(): Promise<number>;

  /**
   * Stores an access token under its hash and indexes it under its session. When the session is gone
   * (revoked, possibly concurrently), the token is not kept: a revoked session never regains a token.
   * The same holds for `putRefreshToken`.
   */
  putAccessToken(hash: string, record: AccessTokenRecord): Promise<void>;
  /** The record, also when past its `expiresAt` (within the retention): the caller checks expiry. */
  getAccessToken(hash: string): Promise<AccessTokenRecord | undefined>;
  deleteAccessToken(hash: string): Promise<boolean>;

  putRefreshToken(hash: string, record: RefreshTokenRecord): Promise<void>;
  /** Looks a refresh token up and, atomically, marks it used (first use wins `fresh`). */
  useRefreshToken(hash: string): Promise<RefreshUse>;
  deleteRefreshToken(hash: string): Promise<boolean>;

  putEphemeral(ns: EphemeralNamespace, id: string, value: unknown, ttlSeconds: number): Promise<void>;
  getEphemeral<T>(ns: EphemeralNamespace, id: string): Promise<T | undefined>;
  /** Replaces the value, keeping the remaining TTL. False when the record is gone. */
  updateEphemeral(ns: EphemeralNamespace, id: string, value: unknown): Promise<boolean>;
  /** Atomic get-and-delete: single-use records (login state, codes). */
  takeEphemeral<T>(ns: EphemeralNamespace, id: string): Promise<T | undefined>;

  /**
   * Looks a refresh token up *without* marking it used: the refresh grant validates the request
   * (client, audience, the user at the upstream) before it consumes the token with `useRefreshToken`.
   */
  peekRefreshToken(hash: string): Promise<RefreshUse>;

  /**
   * Creates an ephemeral record only when none exists under that id (SET NX). False when one does:
   * a lock somebody else holds, an id already taken.
   */
  putEphemeralIfAbsent(
    ns: EphemeralNamespace,
    id: string,
    value: unknown,
    ttlSeconds: number,
  ): Promise<boolean>;
  /**
   * One atomic state transition of an ephemeral record (compare-and-set): replaces the value, keeping
   * its remaining TTL, only when the stored value still equals `expected` (as read by `getEphemeral`).
   * False when the record changed in between or is gone: the caller re-reads instead of overwriting
   * what another request did (a poll must never undo an approval).
   */
  swapEphemeral(ns: EphemeralNamespace, id: string, expected: unknown, next: unknown): Promise<boolean>;

  /**
   * Fixed-window counter for rate limits shared by all replicas: increments `key` and returns the
   * count in the current window of `windowSeconds`.
   */
  hit(key: string, windowSeconds: number): Promise<number>;

  /** Throws StoreUnavailableError when the store cannot serve. For /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
