import type { Claims, UserInfo } from '../core/identity.js';
import type { AccessTokenRecord, RefreshTokenRecord, SessionIdentity, SessionRecord } from './types.js';

/**
 * How the Redis store writes its records: layout 2, a JSON array with the layout number first and
 * the fields by position. No field names, nothing the key already says (a session's id), no field
 * nobody reads (issue times): a store holds one session record and one access-token record per
 * login, and Redis rounds every value up to its allocator's size class, so names cost real bytes.
 *
 * | record        | layout 2                                                                      |
 * |---------------|-------------------------------------------------------------------------------|
 * | session       | `[2, identity, username, source, createdAt, expiresAt, description, upstreamIssuer, subject, upstreamRefreshToken]` |
 * | access token  | `[2, sessionId, username, identity, audiences, expiresAt]`                    |
 * | refresh token | `[2, sessionId, clientId, audiences, expiresAt]`                              |
 * | identity      | `["c", upstream, claims]` or `["s", user]`, then `1`/`0` when allowSystem is set |
 *
 * A session's optional fields are `null` when absent; absent ones at the end are left out.
 *
 * Layout 1, the record object as JSON, is what earlier releases wrote. It is still read (an issue
 * time in it is ignored): sessions and tokens outlive an upgrade. Anything else is not a record.
 */
const LAYOUT = 2;
const CLAIMS = 'c';
const STATIC = 's';

type StoredIdentity = [string, ...unknown[]];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function encodeIdentity(identity: SessionIdentity): StoredIdentity {
  const stored: StoredIdentity =
    identity.kind === 'claims' ? [CLAIMS, identity.upstream, identity.claims] : [STATIC, identity.user];
  if (identity.allowSystem !== undefined) stored.push(identity.allowSystem ? 1 : 0);
  return stored;
}

/** Layout 2's identity array, or layout 1's identity object; undefined when it is neither. */
function readIdentity(value: unknown): SessionIdentity | undefined {
  let identity: SessionIdentity;
  if (Array.isArray(value)) {
    const [kind, first, second, flag] = value;
    if (kind === CLAIMS && typeof first === 'string' && isObject(second)) {
      identity = { kind: 'claims', upstream: first, claims: second as Claims };
    } else if (kind === STATIC && isObject(first)) {
      identity = { kind: 'static', user: first as unknown as UserInfo };
    } else return undefined;
    const withFlag = kind === CLAIMS ? flag : second;
    if (withFlag === 1 || withFlag === 0) identity.allowSystem = withFlag === 1;
    return identity;
  }
  if (!isObject(value)) return undefined;
  if (value.kind === 'claims' && typeof value.upstream === 'string' && isObject(value.claims))
    return value as SessionIdentity;
  if (value.kind === 'static' && isObject(value.user)) return value as SessionIdentity;
  return undefined;
}

/** An optional string field: absent is null in layout 2, a missing property in layout 1. */
function optional(value: unknown): string | undefined | false {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : false;
}

export function encodeSession(session: SessionRecord): string {
  const fields: unknown[] = [
    LAYOUT,
    encodeIdentity(session.identity),
    session.username,
    session.source,
    session.createdAt,
    session.expiresAt,
    session.description ?? null,
    session.upstreamIssuer ?? null,
    session.subject ?? null,
    session.upstreamRefreshToken ?? null,
  ];
  while (fields.at(-1) === null) fields.pop();
  return JSON.stringify(fields);
}

/** The session stored under `id`, in either layout; undefined when the value is not one. */
export function readSession(value: unknown, id: string): SessionRecord | undefined {
  let fields: unknown[];
  if (Array.isArray(value)) {
    if (value[0] !== LAYOUT) return undefined;
    fields = value.slice(1);
  } else if (isObject(value)) {
    const v = value;
    fields = [
      v.identity,
      v.username,
      v.source,
      v.createdAt,
      v.expiresAt,
      v.description,
      v.upstreamIssuer,
      v.subject,
      v.upstreamRefreshToken,
    ];
  } else return undefined;
  const [stored, username, source, createdAt, expiresAt, ...rest] = fields;
  const identity = readIdentity(stored);
  const [description, upstreamIssuer, subject, upstreamRefreshToken] = rest.map(optional);
  if (
    identity === undefined ||
    typeof username !== 'string' ||
    (source !== 'admin' && source !== 'web' && source !== 'cli') ||
    typeof createdAt !== 'number' ||
    typeof expiresAt !== 'number' ||
    [description, upstreamIssuer, subject, upstreamRefreshToken].includes(false)
  ) {
    return undefined;
  }
  return {
    id,
    identity,
    username,
    source,
    createdAt,
    expiresAt,
    ...(typeof upstreamIssuer === 'string' && { upstreamIssuer }),
    ...(typeof subject === 'string' && { subject }),
    ...(typeof upstreamRefreshToken === 'string' && { upstreamRefreshToken }),
    ...(typeof description === 'string' && { description }),
  };
}

export function encodeAccessToken(record: AccessTokenRecord): string {
  return JSON.stringify([
    LAYOUT,
    record.sessionId,
    record.username,
    encodeIdentity(record.identity),
    record.audiences,
    record.expiresAt,
  ]);
}

/** An access-token record in either layout; undefined when the value is not one. The review path. */
export function readAccessToken(value: unknown): AccessTokenRecord | undefined {
  let fields: unknown[];
  if (Array.isArray(value)) {
    if (value[0] !== LAYOUT) return undefined;
    fields = value.slice(1);
  } else if (isObject(value)) {
    fields = [value.sessionId, value.username, value.identity, value.audiences, value.expiresAt];
  } else return undefined;
  const [sessionId, username, stored, audiences, expiresAt] = fields;
  const identity = readIdentity(stored);
  if (
    typeof sessionId !== 'string' ||
    typeof username !== 'string' ||
    identity === undefined ||
    !isStringArray(audiences) ||
    typeof expiresAt !== 'number'
  ) {
    return undefined;
  }
  return { sessionId, username, identity, audiences, expiresAt };
}

export function encodeRefreshToken(record: RefreshTokenRecord): string {
  return JSON.stringify([LAYOUT, record.sessionId, record.clientId, record.audiences, record.expiresAt]);
}

/** A refresh-token record in either layout; undefined when the value is not one. */
export function readRefreshToken(value: unknown): RefreshTokenRecord | undefined {
  let fields: unknown[];
  if (Array.isArray(value)) {
    if (value[0] !== LAYOUT) return undefined;
    fields = value.slice(1);
  } else if (isObject(value)) {
    fields = [value.sessionId, value.clientId, value.audiences, value.expiresAt];
  } else return undefined;
  const [sessionId, clientId, audiences, expiresAt] = fields;
  if (
    typeof sessionId !== 'string' ||
    typeof clientId !== 'string' ||
    !isStringArray(audiences) ||
    typeof expiresAt !== 'number'
  ) {
    return undefined;
  }
  return { sessionId, clientId, audiences, expiresAt };
}
