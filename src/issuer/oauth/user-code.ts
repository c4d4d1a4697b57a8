import { randomInt } from 'node:crypto';

/**
 * Device-flow user codes (RFC 8628 §6.1): 8 characters from 20 consonants, shown as `BCDF-GHJK`.
 * No vowels (no accidental words), no digits or look-alikes (0/O, 1/I/L), case-insensitive on input:
 * 20^8 ≈ 2.6 × 10^10 codes, and guessing is rate-limited per client address on the device page.
 */
const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

export function generateUserCode(random: (max: number) => number = randomInt): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[random(ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What the user typed → the canonical code, or undefined when it cannot be one. Dashes, spaces and case
 * are forgiven (RFC 8628 §6.1 recommends it).
 */
export function normalizeUserCode(input: string): string | undefined {
  const letters = input.toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== LENGTH || [...letters].some((c) => !ALPHABET.includes(c))) return undefined;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}
