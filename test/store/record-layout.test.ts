import { describe, expect, it } from 'vitest';
import {
  encodeAccessToken,
  encodeRefreshToken,
  encodeSession,
  readAccessToken,
  readRefreshToken,
  readSession,
} from '../../src/store/record-layout.js';
import type { AccessTokenRecord, RefreshTokenRecord, SessionRecord } from '../../src/store/types.js';

const NOW = 1_800_000_000;
const AUDIENCE = 'https://kubernetes.default.svc';
const CLAIMS = { sub: 'sub-1', email: 'alice@example.com', email_verified: true, groups: ['dev', 'ops'] };

const loginSession: SessionRecord = {
  id: 'K3v9Zq0aFJm6Xc1bT2yR8w',
  identity: { kind: 'claims', upstream: 'corp', claims: CLAIMS },
  username: 'alice@example.com',
  upstreamIssuer: 'https://idp.example.com',
  subject: 'sub-1',
  source: 'cli',
  createdAt: NOW,
  expiresAt: NOW + 86_400,
  upstreamRefreshToken: 'sealed.upstream.token',
};
const adminSession: SessionRecord = {
  id: 'aB3dE5fG7hJ9kL1mN3pQ5r',
  identity: {
    kind: 'static',
    user: { username: 'ci-bot', uid: 'u-1', groups: ['system:masters'], extra: { team: ['ci'] } },
    allowSystem: true,
  },
  username: 'ci-bot',
  source: 'admin',
  createdAt: NOW,
  expiresAt: NOW + 3600,
  description: 'minted by admin',
};
const access: AccessTokenRecord = {
  sessionId: loginSession.id,
  username: loginSession.username,
  identity: loginSession.identity,
  audiences: [AUDIENCE],
  expiresAt: NOW + 900,
};
const refresh: RefreshTokenRecord = {
  sessionId: loginSession.id,
  clientId: 'kube-oidc-bridge',
  audiences: [AUDIENCE],
  expiresAt: NOW + 43_200,
};

const stored = (text: string) => JSON.parse(text) as unknown;

describe('record layout 2', () => {
  it.each([
    ['a login session (upstream fields, no description)', loginSession],
    ['an admin session (static identity, allowSystem, description)', adminSession],
    [
      'a session with allowSystem false and only a subject',
      {
        ...loginSession,
        identity: { kind: 'claims', upstream: '', claims: CLAIMS, allowSystem: false },
        upstreamIssuer: undefined,
        upstreamRefreshToken: undefined,
      } as SessionRecord,
    ],
  ])('a session reads back as written: %s', (_name, session) => {
    expect(readSession(stored(encodeSession(session)), session.id)).toEqual(session);
  });

  it('access and refresh token records read back as written', () => {
    expect(readAccessToken(stored(encodeAccessToken(access)))).toEqual(access);
    const adminAccess = { ...access, identity: adminSession.identity, audiences: [AUDIENCE, 'other'] };
    expect(readAccessToken(stored(encodeAccessToken(adminAccess)))).toEqual(adminAccess);
    expect(readRefreshToken(stored(encodeRefreshToken(refresh)))).toEqual(refresh);
  });

  it('holds no field names and not the session id (the key says it)', () => {
    const text = encodeSession(adminSession);
    expect(text.startsWith('[2,["s",')).toBe(true);
    expect(text).not.toContain(adminSession.id);
    for (const name of ['"identity"', '"username"', '"expiresAt"', '"kind"', '"sessionId"']) {
      expect(encodeSession(loginSession)).not.toContain(name);
      expect(encodeAccessToken(access)).not.toContain(name);
    }
  });

  it('leaves absent optional session fields at the end out, and writes null for those before', () => {
    const bare = { ...adminSession, description: undefined };
    expect(stored(encodeSession(bare))).toHaveLength(6);
    expect(stored(encodeSession(loginSession))).toEqual([
      2,
      ['c', 'corp', CLAIMS],
      'alice@example.com',
      'cli',
      NOW,
      NOW + 86_400,
      null,
      'https://idp.example.com',
      'sub-1',
      'sealed.upstream.token',
    ]);
  });
});

describe('records written by the previous layout (JSON objects) are still read', () => {
  // Exactly what the store wrote before layout 2: JSON.stringify of the record, with an issue time.
  const legacySession = { ...loginSession };
  const legacyAccess = { ...access, issuedAt: NOW };
  const legacyRefresh = { ...refresh, issuedAt: NOW };

  it('a session, an access token and a refresh token; the issue time is dropped', () => {
    expect(readSession(stored(JSON.stringify(legacySession)), loginSession.id)).toEqual(loginSession);
    expect(readAccessToken(stored(JSON.stringify(legacyAccess)))).toEqual(access);
    expect(readRefreshToken(stored(JSON.stringify(legacyRefresh)))).toEqual(refresh);
  });

  it('an admin-minted session with a static identity and a description', () => {
    const legacy = JSON.stringify({ ...adminSession });
    expect(readSession(stored(legacy), adminSession.id)).toEqual(adminSession);
    const legacyToken = { ...access, identity: adminSession.identity, issuedAt: NOW };
    expect(readAccessToken(stored(JSON.stringify(legacyToken)))?.identity).toEqual(adminSession.identity);
  });
});

describe('anything else is not a record (the store reports it as corrupt)', () => {
  it.each([
    ['a string', '"just a string"'],
    ['null', 'null'],
    [
      'an unknown layout number',
      JSON.stringify([3, ...(stored(encodeAccessToken(access)) as unknown[]).slice(1)]),
    ],
    ['layout 2 without expiresAt', JSON.stringify([2, access.sessionId, 'alice', ['c', 'corp', {}], []])],
    ['an unknown identity kind', JSON.stringify([2, 's', 'alice', ['x', 'corp', {}], [AUDIENCE], NOW])],
    ['audiences that are not strings', JSON.stringify([2, 's', 'alice', ['c', 'corp', {}], [1], NOW])],
    ['a layout 1 object without expiresAt', '{"sessionId":"s"}'],
  ])('access token: %s', (_name, text) => {
    expect(readAccessToken(stored(text))).toBeUndefined();
  });

  it.each([
    ['an unknown source', JSON.stringify([2, ['c', 'corp', {}], 'alice', 'mail', NOW, NOW + 60])],
    [
      'an optional field that is not a string',
      JSON.stringify([2, ['c', 'corp', {}], 'alice', 'cli', NOW, NOW + 60, 7]),
    ],
    ['an access-token record', encodeAccessToken(access)],
  ])('session: %s', (_name, text) => {
    expect(readSession(stored(text), 'id')).toBeUndefined();
  });

  it('refresh token: a record without a client id', () => {
    expect(readRefreshToken(stored(JSON.stringify([2, 's', [AUDIENCE], NOW])))).toBeUndefined();
  });
});
