import { StoreUnavailableError } from '../core/errors.js';

/** Turns a parsed stored value into a record; undefined when it is not a record of that kind. */
export type RecordReader<T> = (value: unknown) => T | undefined;

/** The reader of records stored as plain JSON objects (the ephemeral envelope): any object with an `expiresAt`. */
function readObject<T extends { expiresAt: number }>(value: unknown): T | undefined {
  return typeof value === 'object' &&
    value !== null &&
    typeof (value as { expiresAt?: unknown }).expiresAt === 'number'
    ? (value as T)
    : undefined;
}

/**
 * Parses a stored record and applies the clock: `undefined` when absent or expired. A record that is
 * not what we wrote (not JSON, or refused by `read`: see record-layout.ts) is an infrastructure
 * failure (StoreUnavailableError), never a miss and never a success: a review must not be answered
 * from garbage.
 */
export function decodeRecord<T extends { expiresAt: number }>(
  raw: string | null | undefined,
  now: number,
  what: string,
  read: RecordReader<T> = readObject,
): T | undefined {
  if (raw === null || raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new StoreUnavailableError(`corrupt ${what} record in the store`, { cause: err });
  }
  const record = read(value);
  if (record === undefined) throw new StoreUnavailableError(`corrupt ${what} record in the store`);
  // Defence in depth: Redis expires the key too, but its clock is not ours and a TTL may be wrong.
  return record.expiresAt > now ? record : undefined;
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
  read: RecordReader<T>,
): T | undefined {
  return decodeRecord<T>(raw, now - retention, what, read);
}
