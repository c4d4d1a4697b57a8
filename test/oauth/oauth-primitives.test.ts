import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyS256 } from '../../src/issuer/oauth/pkce.js';
import { generateUserCode, normalizeUserCode } from '../../src/issuer/oauth/user-code.js';

describe('PKCE S256 (RFC 7636)', () => {
  const verifier = 'dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  it('accepts the verifier whose base64url SHA-256 is the challenge', () => {
    expect(verifyS256(verifier, challenge)).toBe(true);
  });
  it('refuses another verifier', () =>
    expect(verifyS256(`${verifier.slice(0, -1)}A`, challenge)).toBe(false));
  it('refuses a plain challenge (verifier sent as its own challenge)', () =>
    expect(verifyS256(verifier, verifier)).toBe(false));
  it('refuses a verifier shorter than 43 characters', () =>
    expect(verifyS256('short', challenge)).toBe(false));
});

describe('device user codes (RFC 8628 §6.1)', () => {
  it('are 8 consonants in two groups, no vowels, digits or look-alikes', () => {
    for (let i = 0; i < 200; i++)
      expect(generateUserCode()).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  });
  const typed: [string, string | undefined][] = [
    ['bcdf-ghjk', 'BCDF-GHJK'],
    [' BCDF GHJK ', 'BCDF-GHJK'],
    ['BCDFGHJK', 'BCDF-GHJK'],
    ['BCDF-GHJ', undefined],
    ['BCDA-GHJK', undefined],
    ['BCD0-GHJK', undefined],
  ];
  for (const [input, expected] of typed) {
    it(`normalises ${JSON.stringify(input)} to ${expected ?? 'nothing'}`, () =>
      expect(normalizeUserCode(input)).toBe(expected));
  }
});
