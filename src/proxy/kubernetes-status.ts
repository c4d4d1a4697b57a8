import { RETRY_AFTER_SECONDS } from '../http/index.js';

/** The refusals the proxy answers itself, with the `reason` the apiserver would give each status. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  502: 'InternalError',
  503: 'ServiceUnavailable',
};

/**
 * A `Status` body as the apiserver writes one: kubectl prints `message`, client-go reads `code`, and on
 * a 503 `details.retryAfterSeconds` repeats Retry-After. A 401's message is the apiserver's own
 * ("Unauthorized"): why a token was refused goes to the audit line, not to the client.
 */
export function kubernetesStatus(code: number, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'InternalError',
    details: code === 503 ? { retryAfterSeconds: RETRY_AFTER_SECONDS } : undefined,
    code,
  });
}

/** Headers of a refusal: JSON, its length, Retry-After on a 503. */
export function statusHeaders(code: number, body: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-cache, private',
  };
  if (code === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  return headers;
}
