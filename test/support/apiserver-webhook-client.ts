import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gunzipSync } from 'node:zlib';
import type { WebhookEndpoint } from './apiserver-webhook-kubeconfig.js';

/**
 * The kube-apiserver's token webhook client, byte for byte where it is observable on the wire: what
 * `k8s.io/apiserver/plugin/pkg/authenticator/token/webhook` sends through client-go's REST client
 * (`pkg/util/webhook` GenericWebhook), how it retries, and how it decodes the answer.
 */

export type WebhookVersion = 'v1' | 'v1beta1';

/** `status` of a TokenReview as the apiserver decodes it (field names are case-sensitive). */
export interface TokenReviewStatus {
  authenticated: boolean;
  user: { username: string; uid: string; groups: string[]; extra: Record<string, string[]> };
  audiences: string[];
  error: string;
}

/** One HTTP exchange with the webhook, recorded for assertions. */
export interface WebhookExchange {
  version: WebhookVersion;
  /** 1-based number of the HTTP exchange within one authentication (every resend increases it). */
  attempt: number;
  /** Path and query the request went to, e.g. `/authenticate?timeout=30s`. */
  path: string;
  requestHeaders: Record<string, string>;
  /** The exact request body. */
  requestBody: string;
  status?: number;
  responseHeaders?: Record<string, string | string[] | undefined>;
  responseBody?: string;
  /** Connection-level failure (refused, reset, TLS handshake, timeout). */
  transportError?: string;
}

export type WebhookCallResult = { ok: true; status: TokenReviewStatus } | { ok: false; message: string };

/** `wait.Backoff` as `DefaultRetryBackoffWithInitialDelay(500ms)` builds it. */
export interface RetryBackoff {
  initialMs: number;
  factor: number;
  /** Each wait is stretched by up to this fraction, at random. */
  jitter: number;
  /** Attempts in all (the first one included). */
  steps: number;
}

export const apiserverRetryBackoff: RetryBackoff = { initialMs: 500, factor: 1.5, jitter: 0.2, steps: 5 };

export interface WebhookClientOptions {
  endpoint: WebhookEndpoint;
  version: WebhookVersion;
  /** Minor version of the simulated apiserver: from 1.34 on, `metadata` is `{}` instead of `{"creationTimestamp":null}`. */
  kubernetesMinor: number;
  backoff: RetryBackoff;
  requestTimeoutMs: number;
  /** How long one second of a Retry-After header lasts (1000; tests shrink it). */
  retryAfterUnitMs?: number;
  /** Every exchange is appended here. */
  log: WebhookExchange[];
  random?: () => number;
}

/** Go's encoding/json escapes these inside strings (HTML-safe output); JSON.stringify does not. */
function goJSON(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The request body the apiserver sends: field order of the Go struct, `audiences` omitted when empty,
 * `status.user` always present, and the trailing newline of json.Encoder.
 */
export function tokenReviewRequestBody(
  version: WebhookVersion,
  kubernetesMinor: number,
  token: string,
  audiences: string[],
): string {
  const metadata = kubernetesMinor >= 34 ? '{}' : '{"creationTimestamp":null}';
  const spec = audiences.length > 0 ? { token, audiences } : { token };
  return `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/${version}","metadata":${metadata},"spec":${goJSON(spec)},"status":{"user":{}}}\n`;
}

interface HttpAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

type AttemptResult =
  | { kind: 'answer'; answer: HttpAnswer }
  | { kind: 'transport'; message: string; code: string | undefined };

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const raw = Buffer.concat(chunks);
      // Go's transport asks for gzip itself and so decompresses transparently.
      resolve((res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
    });
  });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes a 2xx answer like the REST client's `Into(result)`: the object must be a TokenReview of the
 * version that was sent, and typed fields must have their types; unknown fields are ignored.
 */
export function decodeTokenReview(body: string, version: WebhookVersion): WebhookCallResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return { ok: false, message: `couldn't decode response: ${(err as Error).message}` };
  }
  if (!isObject(parsed)) return { ok: false, message: "couldn't decode response: not a JSON object" };
  const want = `authentication.k8s.io/${version}`;
  if (parsed.apiVersion !== want || parsed.kind !== 'TokenReview') {
    return {
      ok: false,
      message: `response is ${String(parsed.apiVersion)}, Kind=${String(parsed.kind)}; expected ${want}, Kind=TokenReview`,
    };
  }
  const status = parsed.status ?? {};
  if (!isObject(status)) return { ok: false, message: 'status is not an object' };
  const user = status.user ?? {};
  if (!isObject(user)) return { ok: false, message: 'status.user is not an object' };
  const extra = user.extra ?? {};
  const checks: [boolean, string][] = [
    [status.authenticated === undefined || typeof status.authenticated === 'boolean', 'status.authenticated'],
    [status.audiences == null || isStringArray(status.audiences), 'status.audiences'],
    [status.error === undefined || typeof status.error === 'string', 'status.error'],
    [user.username === undefined || typeof user.username === 'string', 'status.user.username'],
    [user.uid === undefined || typeof user.uid === 'string', 'status.user.uid'],
    [user.groups == null || isStringArray(user.groups), 'status.user.groups'],
    [
      isObject(extra) && Object.values(extra).every((v) => v == null || isStringArray(v)),
      'status.user.extra',
    ],
  ];
  const bad = checks.find(([ok]) => !ok);
  if (bad) return { ok: false, message: `couldn't decode response: ${bad[1]} has the wrong type` };
  return {
    ok: true,
    status: {
      authenticated: status.authenticated === true,
      audiences: (status.audiences as string[] | null | undefined) ?? [],
      error: (status.error as string | undefined) ?? '',
      user: {
        username: (user.username as string | undefined) ?? '',
        uid: (user.uid as string | undefined) ?? '',
        groups: (user.groups as string[] | null | undefined) ?? [],
        extra: Object.fromEntries(
          Object.entries(extra as Record<string, string[] | null>).map(([k, v]) => [k, v ?? []]),
        ),
      },
    },
  };
}

/**
 * client-go's error classification of a non-2xx answer, reduced to what DefaultShouldRetry asks:
 * 500 and other 5xx become InternalError, 504 Timeout, 429 TooManyRequests — retried; 503
 * ServiceUnavailable and 4xx are not, unless the answer carries Retry-After (SuggestsClientDelay).
 */
export function shouldRetryStatus(
  status: number,
  headers: IncomingMessage['headers'],
  body: string,
): boolean {
  if (headers['retry-after'] !== undefined) return true;
  try {
    const parsed = JSON.parse(body) as { kind?: string; details?: { retryAfterSeconds?: number } };
    if (parsed.kind === 'Status' && (parsed.details?.retryAfterSeconds ?? 0) > 0) return true;
  } catch {
    // not a Status object: classified by code alone
  }
  if (status === 429 || status === 504) return true;
  return status >= 500 && status !== 503;
}

/**
 * client-go's `checkWait`: a 429 or 5xx answer carrying `Retry-After: N` (whole seconds) makes the REST
 * client itself wait N seconds and send the request again, before the webhook's own backoff sees an error.
 */
function retryAfterSeconds(answer: HttpAnswer): number | undefined {
  if (answer.status !== 429 && answer.status < 500) return undefined;
  const header = answer.headers['retry-after'];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** client-go rest.Request's `maxRetries` for those Retry-After resends. */
const REST_MAX_RETRIES = 10;

/** Sleeps `ms`, but not past `deadline`; false when the deadline cut the wait short (context done). */
async function pause(ms: number, deadline: number): Promise<boolean> {
  const left = deadline - Date.now();
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, left))));
  return ms < left;
}

/** Creates the client; `close()` drops its kept-alive connections. */
export function createWebhookClient(options: WebhookClientOptions) {
  const { endpoint, version, backoff, log } = options;
  const random = options.random ?? Math.random;
  const retryAfterUnitMs = options.retryAfterUnitMs ?? 1000;
  const secure = endpoint.server.protocol === 'https:';
  // client-go keeps connections alive and presents the kubeconfig's client certificate on each.
  const agent = secure
    ? new HttpsAgent({
        keepAlive: true,
        ca: endpoint.ca,
        cert: endpoint.clientCert,
        key: endpoint.clientKey,
        rejectUnauthorized: !endpoint.insecureSkipTLSVerify,
        servername: endpoint.tlsServerName,
      })
    : new HttpAgent({ keepAlive: true });
  const url = new URL(endpoint.server);
  // rest.Config.Timeout (30s for webhooks) travels as a query parameter, as on any client-go request.
  url.searchParams.set('timeout', `${Math.round(options.requestTimeoutMs / 1000)}s`);

  function send(body: string, attempt: number): Promise<AttemptResult> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: 'application/json, */*',
      'User-Agent': `kube-apiserver/v1.${options.kubernetesMinor}.0 (linux/amd64) kubernetes/$Format`,
      'Content-Length': String(Buffer.byteLength(body)),
      'Accept-Encoding': 'gzip',
    };
    if (endpoint.token) headers.Authorization = `Bearer ${endpoint.token}`;
    const entry: WebhookExchange = {
      version,
      attempt,
      path: url.pathname + url.search,
      requestHeaders: { ...headers, ...(endpoint.token ? { Authorization: 'Bearer <redacted>' } : {}) },
      requestBody: body,
    };
    log.push(entry);
    return new Promise((resolve) => {
      const req = (secure ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        headers,
        agent,
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      req.on('response', (res) => {
        readBody(res).then(
          (text) => {
            entry.status = res.statusCode ?? 0;
            entry.responseHeaders = res.headers;
            entry.responseBody = text;
            resolve({ kind: 'answer', answer: { status: entry.status, headers: res.headers, body: text } });
          },
          (err: NodeJS.ErrnoException) => {
            entry.transportError = err.message;
            resolve({ kind: 'transport', message: err.message, code: err.code });
          },
        );
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        entry.transportError = err.message;
        resolve({ kind: 'transport', message: err.message, code: err.code });
      });
      req.end(body);
    });
  }

  /** One REST client `Do()`: the request, resent after each Retry-After wait (at most 10 times). */
  async function post(body: string, exchanges: { n: number }, deadline: number): Promise<AttemptResult> {
    for (let retries = 0; ; retries++) {
      exchanges.n += 1;
      const result = await send(body, exchanges.n);
      if (result.kind !== 'answer' || retries >= REST_MAX_RETRIES) return result;
      const seconds = retryAfterSeconds(result.answer);
      if (seconds === undefined || !(await pause(seconds * retryAfterUnitMs, deadline))) return result;
    }
  }

  /**
   * One `TokenReview` create, with `webhook.WithExponentialBackoff(DefaultShouldRetry)` around it:
   * up to `steps` attempts, waiting initial × factor^n (+ jitter) in between. Nothing waits past
   * `deadline` (the token cache's shared lookup timeout): the call then fails.
   */
  async function review(
    token: string,
    audiences: string[],
    deadline = Number.POSITIVE_INFINITY,
  ): Promise<WebhookCallResult> {
    const body = tokenReviewRequestBody(version, options.kubernetesMinor, token, audiences);
    let wait = backoff.initialMs;
    let last: WebhookCallResult = { ok: false, message: 'no attempt made' };
    const exchanges = { n: 0 };
    for (let attempt = 1; attempt <= backoff.steps; attempt++) {
      const result = await post(body, exchanges, deadline);
      let retry: boolean;
      if (result.kind === 'transport') {
        last = { ok: false, message: `Post "${url}": ${result.message}` };
        // utilnet.IsConnectionReset is the only transport failure DefaultShouldRetry retries.
        retry = result.code === 'ECONNRESET';
      } else if (result.answer.status < 200 || result.answer.status > 206) {
        last = {
          ok: false,
          message: `the server responded with status ${result.answer.status}: ${result.answer.body.slice(0, 200)}`,
        };
        retry = shouldRetryStatus(result.answer.status, result.answer.headers, result.answer.body);
      } else {
        return decodeTokenReview(result.answer.body, version);
      }
      if (!retry || attempt === backoff.steps) return last;
      if (Date.now() >= deadline || !(await pause(wait * (1 + random() * backoff.jitter), deadline))) {
        return { ok: false, message: `${last.ok ? '' : last.message}: context deadline exceeded` };
      }
      wait *= backoff.factor;
    }
    return last;
  }

  return {
    review,
    close(): void {
      agent.destroy();
    },
  };
}

export type WebhookClient = ReturnType<typeof createWebhookClient>;
