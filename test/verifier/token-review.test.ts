import { describe, expect, it } from 'vitest';
import { parseTokenReview, serializeTokenReview } from '../../src/verifier/index.js';
import { tokenReviewRequestBody } from '../support/apiserver-webhook-client.js';

const TOKEN = 'kob_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA123456';

describe('parseTokenReview', () => {
  const accepted: {
    name: string;
    body: string;
    expect: { apiVersion: string; token: string; audiences: string[] };
  }[] = [
    {
      name: 'v1 as kube-apiserver 1.34+ sends it (metadata: {})',
      body: tokenReviewRequestBody('v1', 34, TOKEN, ['https://kubernetes.default.svc']),
      expect: {
        apiVersion: 'authentication.k8s.io/v1',
        token: TOKEN,
        audiences: ['https://kubernetes.default.svc'],
      },
    },
    {
      name: 'v1beta1 as older apiservers send it (creationTimestamp: null)',
      body: tokenReviewRequestBody('v1beta1', 33, TOKEN, []),
      expect: { apiVersion: 'authentication.k8s.io/v1beta1', token: TOKEN, audiences: [] },
    },
    {
      name: 'unknown fields anywhere are accepted',
      body: JSON.stringify({
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name: 'x', labels: { a: 'b' } },
        spec: { token: TOKEN, audiences: ['a'], future: true },
        status: { user: {} },
        extraTopLevel: [1, 2],
      }),
      expect: { apiVersion: 'authentication.k8s.io/v1', token: TOKEN, audiences: ['a'] },
    },
    {
      name: 'missing spec.token reads as the empty token (denied later, not a 400)',
      body: '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{}}',
      expect: { apiVersion: 'authentication.k8s.io/v1', token: '', audiences: [] },
    },
    {
      name: 'audiences: null reads as none',
      body: `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"${TOKEN}","audiences":null}}`,
      expect: { apiVersion: 'authentication.k8s.io/v1', token: TOKEN, audiences: [] },
    },
  ];
  it.each(accepted)('accepts: $name', ({ body, expect: want }) => {
    expect(parseTokenReview(body)).toEqual({ ok: true, review: want });
  });

  const refused: { name: string; body: string; reason: RegExp }[] = [
    { name: 'not JSON', body: '{"kind":', reason: /not JSON/ },
    { name: 'a JSON array', body: '[]', reason: /not a JSON object/ },
    {
      name: 'wrong kind',
      body: `{"kind":"SubjectAccessReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"${TOKEN}"}}`,
      reason: /kind must be TokenReview/,
    },
    {
      name: 'kind in the wrong case (field values are case-sensitive)',
      body: `{"kind":"tokenreview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"${TOKEN}"}}`,
      reason: /kind/,
    },
    {
      name: 'unsupported apiVersion',
      body: `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v2","spec":{"token":"${TOKEN}"}}`,
      reason: /apiVersion/,
    },
    {
      name: 'spec missing',
      body: '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1"}',
      reason: /spec must be an object/,
    },
    {
      name: 'token not a string',
      body: '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":42}}',
      reason: /spec.token/,
    },
    {
      name: 'audiences not a list of strings',
      body: `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"${TOKEN}","audiences":"a"}}`,
      reason: /spec.audiences/,
    },
  ];
  it.each(refused)('refuses: $name, without quoting the token', ({ body, reason }) => {
    const parsed = parseTokenReview(body);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason).toMatch(reason);
    expect(parsed.reason).not.toContain(TOKEN);
  });
});

describe('serializeTokenReview', () => {
  it('answers in the version asked, leaving out empty uid and extra', () => {
    const body = serializeTokenReview('authentication.k8s.io/v1beta1', {
      authenticated: true,
      user: { username: 'alice', groups: ['dev'], extra: {} },
      audiences: ['aud'],
    });
    expect(JSON.parse(body)).toEqual({
      apiVersion: 'authentication.k8s.io/v1beta1',
      kind: 'TokenReview',
      status: { authenticated: true, user: { username: 'alice', groups: ['dev'] }, audiences: ['aud'] },
    });
  });

  it('keeps uid and extra when present', () => {
    const body = serializeTokenReview('authentication.k8s.io/v1', {
      authenticated: true,
      user: { username: 'bob', uid: '42', groups: [], extra: { 'example.com/team': ['a'] } },
      audiences: ['aud'],
    });
    expect(JSON.parse(body).status.user).toEqual({
      username: 'bob',
      uid: '42',
      groups: [],
      extra: { 'example.com/team': ['a'] },
    });
  });

  it('a plain denial carries no error (the apiserver caches it); a rule failure carries one (not cached)', () => {
    expect(JSON.parse(serializeTokenReview('authentication.k8s.io/v1', { authenticated: false }))).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      status: { authenticated: false },
    });
    const withError = serializeTokenReview('authentication.k8s.io/v1', {
      authenticated: false,
      error: 'rule failed',
    });
    expect(JSON.parse(withError).status).toEqual({ authenticated: false, error: 'rule failed' });
  });
});
