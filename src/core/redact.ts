/**
 * The one redaction helper. Every log line goes through pino with these paths censored, and
 * `redactCredentials` scrubs credential-shaped substrings from free text (error messages from
 * libraries may echo what they were given).
 */
export const REDACTED = '[redacted]';

/** pino `redact.paths`: headers, bodies and fields that may carry secrets. */
export const LOG_REDACT_PATHS = [
  'token',
  'refreshToken',
  'refresh_token',
  'access_token',
  'id_token',
  'code',
  'code_verifier',
  'device_code',
  'user_code',
  'client_secret',
  'password',
  'cookie',
  '*.token',
  '*.refreshToken',
  '*.refresh_token',
  '*.access_token',
  '*.id_token',
  '*.code',
  '*.code_verifier',
  '*.device_code',
  '*.client_secret',
  '*.password',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'spec.token',
  '*.spec.token',
];

const CREDENTIAL = /\b(kob_|kobrt_)[A-Za-z0-9_-]{20,}/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Replaces anything that looks like one of our credentials, a bearer value or a JWT. */
export function redactCredentials(text: string): string {
  return text.replace(CREDENTIAL, `$1${REDACTED}`).replace(BEARER, `$1 ${REDACTED}`).replace(JWT, REDACTED);
}
