import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  encodeExtraKey,
  impersonationHeaders,
  scanRequestHeaders,
} from '../../src/proxy/index.js';

describe('scanRequestHeaders', () => {
  it('forwards end-to-end headers, keeps repeats, and takes the first Authorization as Go would', () => {
    const scan = scanRequestHeaders([
      'Accept',
      'application/json',
      'Warning',
      'a',
      'warning',
      'b',
      'Authorization',
      'Bearer first',
      'authorization',
      'Bearer second',
      'Host',
      'proxy.example.com',
      'X-Forwarded-For',
      '10.0.0.1',
      'Content-Length',
      '2',
    ]);
    expect(scan).toEqual({
      ok: true,
      authorization: 'Bearer first',
      forward: { accept: 'application/json', warning: ['a', 'b'], 'content-length': '2' },
    });
  });

  const stripped: { name: string; header: [string, string] }[] = [
    { name: 'Connection', header: ['Connection', 'keep-alive'] },
    { name: 'Keep-Alive', header: ['Keep-Alive', 'timeout=5'] },
    { name: 'Proxy-Connection', header: ['Proxy-Connection', 'keep-alive'] },
    { name: 'Proxy-Authorization', header: ['Proxy-Authorization', 'Basic eA=='] },
    { name: 'TE', header: ['TE', 'trailers'] },
    { name: 'Trailer', header: ['Trailer', 'X-Sum'] },
    { name: 'Transfer-Encoding', header: ['Transfer-Encoding', 'chunked'] },
    { name: 'Upgrade on a plain request', header: ['Upgrade', 'websocket'] },
    { name: 'X-Remote-User (request-header authentication)', header: ['X-Remote-User', 'evil'] },
    { name: 'X-Remote-Extra-Scopes', header: ['x-remote-extra-scopes', 'evil'] },
  ];
  it.each(stripped)('does not forward $name', ({ header }) => {
    const scan = scanRequestHeaders([...header, 'Accept', '*/*']);
    expect(scan).toEqual({ ok: true, forward: { accept: '*/*' }, authorization: undefined });
  });

  it('drops headers the client named in Connection (RFC 9110 §7.6.1)', () => {
    const scan = scanRequestHeaders(['Connection', 'close, X-Private', 'X-Private', '1', 'Accept', '*/*']);
    expect(scan.ok && scan.forward).toEqual({ accept: '*/*' });
  });

  const impersonation = [
    'Impersonate-User',
    'impersonate-user',
    'IMPERSONATE-GROUP',
    'Impersonate-Uid',
    'Impersonate-Extra-Scopes',
    'impersonate-extra-example.com%2fteam',
    'Impersonate_User',
  ];
  it.each(impersonation)('refuses a request carrying %s (impersonation, 403)', (name) => {
    expect(scanRequestHeaders(['Accept', '*/*', name, 'system:admin'])).toEqual({
      ok: false,
      result: 'impersonation',
      reason: 'impersonation headers are not accepted here',
    });
  });

  it('refuses more than one Content-Length, and Content-Length with Transfer-Encoding', () => {
    expect(scanRequestHeaders(['Content-Length', '2', 'content-length', '2'])).toMatchObject({
      ok: false,
      result: 'bad_request',
      reason: 'more than one Content-Length header',
    });
    expect(scanRequestHeaders(['Content-Length', '2', 'Transfer-Encoding', 'chunked'])).toMatchObject({
      ok: false,
      result: 'bad_request',
      reason: 'both Content-Length and Transfer-Encoding',
    });
  });

  it('keeps Connection: Upgrade and Upgrade for a protocol switch', () => {
    const scan = scanRequestHeaders(
      ['Connection', 'Upgrade', 'Upgrade', 'SPDY/3.1', 'X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
      true,
    );
    expect(scan.ok && scan.forward).toEqual({
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
      'x-stream-protocol-version': 'v4.channel.k8s.io',
    });
  });
});

describe('bearerToken (as the apiserver reads Authorization)', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['  Bearer abc  ', 'abc'],
    ['Bearer abc def', 'abc'],
    ['Bearer ', undefined],
    ['Basic abc', undefined],
    ['abc', undefined],
  ])('%j → %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('impersonationHeaders', () => {
  it('one header per group and per extra value, keys percent-encoded', () => {
    expect(
      impersonationHeaders({
        username: 'alice@example.com',
        uid: 'u-1',
        groups: ['dev', 'ops'],
        extra: { 'example.com/team': ['blue', 'green'], 'example.com/empty': [] },
      }),
    ).toEqual({
      ok: true,
      headers: {
        'impersonate-user': 'alice@example.com',
        'impersonate-uid': 'u-1',
        'impersonate-group': ['dev', 'ops'],
        'impersonate-extra-example.com%2Fteam': ['blue', 'green'],
      },
    });
  });

  it('encodes every character a header name cannot carry, and % itself', () => {
    expect(encodeExtraKey('example.com/a b%c:ü')).toBe('example.com%2Fa%20b%25c%3A%C3%BC');
  });

  it('sends non-ASCII values as UTF-8 bytes (what Go reads)', () => {
    const result = impersonationHeaders({ username: 'josé', groups: [], extra: {} });
    expect(
      result.ok && Buffer.from(result.headers['impersonate-user'] as string, 'latin1').toString('utf8'),
    ).toBe('josé');
  });

  it.each([
    ['a newline in the username', { username: 'a\r\nImpersonate-User: system:admin', groups: [], extra: {} }],
    ['a NUL in a group', { username: 'a', groups: ['x\u0000'], extra: {} }],
    ['an empty username', { username: '', groups: [], extra: {} }],
  ])('refuses an identity with %s', (_name, user) => {
    expect(impersonationHeaders(user).ok).toBe(false);
  });
});
