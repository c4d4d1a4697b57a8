import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { SecretBox } from '../../src/issuer/index.js';

const KEY = 'k'.repeat(32);

describe('SecretBox (AES-256-GCM for secrets at rest)', () => {
  it('round-trips, with a fresh IV each time, and the plaintext never shows in the sealed value', () => {
    const box = new SecretBox(KEY, 'upstream-refresh-token');
    const a = box.seal('refresh-token-value', 'corp');
    const b = box.seal('refresh-token-value', 'corp');
    expect(a).not.toBe(b);
    expect(a).not.toContain('refresh-token-value');
    expect(box.open(a, 'corp')).toBe('refresh-token-value');
  });

  it.each([
    [
      'another context (upstream)',
      (s: string) => new SecretBox(KEY, 'upstream-refresh-token').open(s, 'other'),
    ],
    ['another purpose', (s: string) => new SecretBox(KEY, 'cookie').open(s, 'corp')],
    ['another key', (s: string) => new SecretBox('x'.repeat(32), 'upstream-refresh-token').open(s, 'corp')],
    [
      'a flipped byte',
      (s: string) =>
        new SecretBox(KEY, 'upstream-refresh-token').open(
          `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`,
          'corp',
        ),
    ],
    ['not a sealed value', () => new SecretBox(KEY, 'upstream-refresh-token').open('plain', 'corp')],
  ])('does not open with %s', (_name, open) => {
    const sealed = new SecretBox(KEY, 'upstream-refresh-token').seal('secret', 'corp');
    expect(open(sealed)).toBeUndefined();
  });

  it('refuses key material shorter than 32 bytes, naming the config field', () => {
    expect(() => new SecretBox('short', 'x')).toThrow(ConfigError);
    expect(() => new SecretBox('short', 'x')).toThrow(/issuer\.encryptionKey/);
  });
});
