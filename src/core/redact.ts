/**
 * The one redaction helper. Every log line passes through `redactLogFields` (wired into the pino
 * logger by logger.ts): fields whose *name* says they hold a secret are censored at any depth, and
 * every string value is scrubbed of credential-shaped substrings (library errors sometimes echo what
 * they were given).
 *
 * Why a key-name walk and not pino's `redact.paths`: wildcard paths (`*.token`) are applied to every
 * line and measured ~10× the cost of the rest of a TokenReview; a walk over a log line's few fields
 * costs about a microsecond and covers any depth.
 */
export const REDACTED = '[redacted]';

/** Field names (lower-cased) whose values are never logged. */
export const SECRET_KEYS = new Set([
  'token',
  'refreshtoken',
  'refresh_token',
  'accesstoken',
  'access_token',
  'id_token',
  'idtoken',
  'code',
  'code_verifier',
  'codeverifier',
  'device_code',
  'devicecode',
  'user_code',
  'usercode',
  'client_secret',
  'clientsecret',
  'password',
  'cookie',
  'set-cookie',
  'authorization',
  'upstreamrefreshtoken',
]);

const CREDENTIAL = /\b(kob_|kobrt_)[A-Za-z0-9_-]{20,}/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const ANY_SECRET_SHAPE = /kob_|kobrt_|bearer|basic|eyJ/i;

/** Replaces anything that looks like one of our credentials, a bearer value or a JWT. */
export function redactCredentials(text: string): string {
  if (!ANY_SECRET_SHAPE.test(text)) return text;
  return text.replace(CREDENTIAL, `$1${REDACTED}`).replace(BEARER, `$1 ${REDACTED}`).replace(JWT, REDACTED);
}

const MAX_DEPTH = 8;

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactCredentials(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  // Errors, Buffers, class instances: left to pino's serializers (the `err` serializer scrubs messages).
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    out[key] = SECRET_KEYS.has(key.toLowerCase()) && v !== undefined ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}

/**
 * A copy of a log line's fields with secret-named fields censored (any depth) and credential-shaped
 * substrings scrubbed from every string.
 */
export function redactLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  return redactValue(fields, 0) as Record<string, unknown>;
}
