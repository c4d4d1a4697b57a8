import { createHash, createHmac, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Opaque bearer credentials.
 *
 * `kob_` + 256 random bits (base64url, 43 chars) + a 6-char base62 CRC32 of the random part. The
 * checksum lets a secret scanner tell a real token from a look-alike offline, and lets us refuse a
 * mistyped token without a store round trip. No spaces: the apiserver splits `Authorization` at the
 * first space.
 */
export type CredentialKind = 'access' | 'refresh';

const PREFIX: Record<CredentialKind, string> = { access: 'kob_', refresh: 'kobrt_' };
const RANDOM_CHARS = 43; // base64url of 32 bytes, no padding
const CHECKSUM_CHARS = 6;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY = /^[A-Za-z0-9_-]+$/;

function checksum(randomPart: string): string {
  let n = crc32(randomPart);
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** Mints a new credential of the given kind. `random` is injectable for tests. */
export function generateCredential(
  kind: CredentialKind,
  random: (size: number) => Buffer = randomBytes,
): string {
  const body = random(32).toString('base64url');
  return `${PREFIX[kind]}${body}${checksum(body)}`;
}

/**
 * True when `value` has the shape of a credential of `kind` with a valid checksum. Shape only: says
 * nothing about whether the store knows it.
 */
export function isWellFormedCredential(value: string, kind: CredentialKind): boolean {
  const prefix = PREFIX[kind];
  if (value.length !== prefix.length + RANDOM_CHARS + CHECKSUM_CHARS || !value.startsWith(prefix))
    return false;
  const body = value.slice(prefix.length, prefix.length + RANDOM_CHARS);
  if (!BODY.test(body)) return false;
  return checksum(body) === value.slice(prefix.length + RANDOM_CHARS);
}

/**
 * The store key for a credential: SHA-256, or HMAC-SHA256 with the server pepper when configured, so
 * a dump of the store cannot be replayed (and, with a pepper, cannot even be brute-forced offline).
 * Returned as base64url.
 */
export function hashCredential(value: string, pepper?: Buffer): string {
  const h = pepper ? createHmac('sha256', pepper) : createHash('sha256');
  return h.update(value).digest('base64url');
}

/** Random identifier for sessions, families, login states (not secrets, but unguessable). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
