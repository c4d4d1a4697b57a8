import type { AccessTokenRecord, RefreshTokenRecord, SessionRecord } from '../../src/store/index.js';

let serial = 0;

/** A session record for store tests; `id` unique per call unless given. */
export function sessionRecord(
  now: number,
  overrides: Partial<SessionRecord> & { username?: string } = {},
): SessionRecord {
  serial += 1;
  const username = overrides.username ?? 'alice@example.com';
  return {
    id: `session-${serial}`,
    identity: { kind: 'static', user: { username, groups: ['dev'], extra: {} } },
    username,
    source: 'admin',
    createdAt: now,
    expiresAt: now + 3600,
    ...overrides,
  };
}

export function accessRecord(session: SessionRecord, now: number, ttl = 900): AccessTokenRecord {
  return {
    sessionId: session.id,
    username: session.username,
    identity: session.identity,
    audiences: ['https://kubernetes.default.svc'],
    expiresAt: now + ttl,
  };
}

export function refreshRecord(session: SessionRecord, now: number, ttl = 1800): RefreshTokenRecord {
  return {
    sessionId: session.id,
    clientId: 'kube-oidc-bridge',
    audiences: ['https://kubernetes.default.svc'],
    expiresAt: now + ttl,
  };
}

/** A hash-shaped key (the store only ever sees credential hashes). */
export function tokenHash(label: string): string {
  serial += 1;
  return Buffer.from(`${label}-${serial}`.padEnd(32, '.')).toString('base64url');
}
