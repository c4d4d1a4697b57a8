import { StoreUnavailableError } from '../core/errors.js';

/**
 * Parses a stored record and applies the clock: `undefined` when absent or expired. A record that is
 * not the JSON object we wrote is an infrastructure failure (StoreUnavailableError), never a miss and
 * never a success: a review must not be answered from garbage.
 */
export function decodeRecord<T extends { expiresAt: number }>(
  raw: string | null | undefined,
  now: number,
  what: string,
): T | undefined {
  if (raw === null || raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new StoreUnavailableError(`corrupt ${what} record in the store`, { cause: err });
  }
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as { expiresAt?: unknown }).expiresAt !== 'number'
  ) {
    throw new StoreUnavailableError(`corrupt ${what} record in the store`);
  }
  // Defence in depth: Redis expires the key too, but its clock is not ours and a TTL may be wrong.
  return (value as T).expiresAt > now ? (value as T) : undefined;
}

/**
 * Like decodeRecord, but a record past its `expiresAt` is still returned for `retention` seconds:
 * for access tokens, whose expiry the token service decides (see expired-retention.ts).
 */
export function decodeRetainedRecord<T extends { expiresAt: number }>(
  raw: string | null | undefined,
  now: number,
  retention: number,
  what: string,
): T | undefined {
  return decodeRecord<T>(raw, now - retention, what);
}
