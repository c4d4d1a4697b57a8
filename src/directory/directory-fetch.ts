import { BridgeError } from '../core/errors.js';
import { isLoopbackHttp } from '../http/loopback-url.js';

/** The fetch the directory lookups use (global fetch, or one that trusts a private CA). */
export type DirectoryFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Largest response body accepted from a claims source or directory page. */
export const MAX_DIRECTORY_RESPONSE_BYTES = 4 * 1024 * 1024;

/** What one lookup may spend: the deadline (epoch ms) shared by every request of one login or refresh. */
export interface LookupBudget {
  fetch: DirectoryFetch;
  deadlineMs: number;
  /** Waits `ms` (the clock's sleep: tests make it instant). */
  sleep(ms: number): Promise<void>;
  now(): number;
}

/**
 * Names the source in every failure: "groups could not be fetched from graph.microsoft.com: …". `where`
 * is the URL asked (only its host is shown: paths and queries may carry cursors or ids) or, for a
 * failure that is no request's, a label such as "the upstream's claim sources".
 */
export function lookupFailed(where: string, reason: string, cause?: unknown): BridgeError {
  return new BridgeError('ERR_UPSTREAM', `groups could not be fetched from ${sourceName(where)}: ${reason}`, {
    cause,
  });
}

function sourceName(where: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(where)) return where;
  try {
    return new URL(where).host;
  } catch {
    return 'an invalid URL';
  }
}

/** Directory and claims endpoints must be https; plain http only to this machine (tests, development). */
export function assertSafeEndpoint(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw lookupFailed(url, 'the endpoint is not a URL');
  }
  if (parsed.protocol !== 'https:' && !isLoopbackHttp(parsed)) {
    throw lookupFailed(url, `the endpoint must use https (got ${parsed.protocol})`);
  }
  return parsed;
}

export interface BoundedResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * One GET within the lookup's deadline, its body read up to MAX_DIRECTORY_RESPONSE_BYTES. Transport
 * failures, time-outs and oversized bodies become lookupFailed errors; the status is the caller's.
 */
export async function boundedGet(
  budget: LookupBudget,
  url: string,
  headers: Record<string, string>,
): Promise<BoundedResponse> {
  assertSafeEndpoint(url);
  const remaining = budget.deadlineMs - budget.now();
  if (remaining <= 0) throw lookupFailed(url, 'the time budget for group lookups ran out');
  let response: Response;
  try {
    response = await budget.fetch(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...headers },
      redirect: 'error',
      signal: AbortSignal.timeout(remaining),
    });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message;
    throw lookupFailed(url, reason, err);
  }
  const body = await readCapped(response, url);
  return { status: response.status, headers: response.headers, body };
}

async function readCapped(response: Response, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_DIRECTORY_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw lookupFailed(url, `the response is larger than ${MAX_DIRECTORY_RESPONSE_BYTES} bytes`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_DIRECTORY_RESPONSE_BYTES) {
        await reader.cancel();
        throw lookupFailed(url, `the response is larger than ${MAX_DIRECTORY_RESPONSE_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof BridgeError) throw err;
    throw lookupFailed(url, (err as Error).message, err);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON object body or fails naming the source. */
export function parseJsonObject(url: string, body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw lookupFailed(url, 'the response is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw lookupFailed(url, 'the response is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Seconds to wait before retrying a throttled request: `Retry-After` (seconds or an HTTP date), else
 * `X-Rate-Limit-Reset` (Okta: epoch seconds), else one second.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
 * @see https://developer.okta.com/docs/reference/rl-best-practices/
 */
export function throttleDelayMs(headers: Headers, nowMs: number): number {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - nowMs);
  }
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - nowMs);
  return 1000;
}

/** Most throttled retries of one request before the lookup gives up. */
const MAX_THROTTLE_RETRIES = 5;

/**
 * GET with throttling answered: a 429 (or 503 with Retry-After) waits as the server asks and tries
 * again, within the lookup's deadline. Other statuses are returned as they are.
 */
export async function getHonouringThrottle(
  budget: LookupBudget,
  url: string,
  headers: Record<string, string>,
): Promise<BoundedResponse> {
  for (let attempt = 0; ; attempt++) {
    const response = await boundedGet(budget, url, headers);
    const throttled =
      response.status === 429 || (response.status === 503 && response.headers.has('retry-after'));
    if (!throttled) return response;
    if (attempt >= MAX_THROTTLE_RETRIES) throw lookupFailed(url, 'still throttled after retries');
    const delay = throttleDelayMs(response.headers, budget.now());
    if (budget.now() + delay >= budget.deadlineMs) {
      throw lookupFailed(
        url,
        `throttled, and the requested wait (${Math.ceil(delay / 1000)} s) exceeds the time budget`,
      );
    }
    await budget.sleep(delay);
  }
}
