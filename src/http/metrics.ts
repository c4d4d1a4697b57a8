import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric the project exports, created on one Registry handed in by the composition
 * root (no global registry: two servers in one test process must not collide).
 */
export interface Metrics {
  registry: Registry;
  /**
   * TokenReview requests by `result` (decisions: authenticated, malformed, unknown, expired, audience,
   * rule, error, store_lost; refused requests: bad_request, body_timeout, unavailable, shed) and
   * `version` (v1, v1beta1, unknown).
   */
  reviews: Counter<'result' | 'version'>;
  reviewDuration: Histogram<'result'>;
  /** Store failures by `operation`. */
  storeErrors: Counter<'operation'>;
  /** Upstream logins by `upstream` and `result` (success, refused, error, cancelled). */
  logins: Counter<'upstream' | 'result'>;
  /** Tokens minted by `source` (admin, web, cli). */
  mints: Counter<'source'>;
  /** Refresh-token grants by `result` (success, reuse_grace, reuse_revoked, upstream_refused, expired, unknown). */
  refreshes: Counter<'result'>;
  /** Revocations by `scope` (token, session, user). */
  revocations: Counter<'scope'>;
  /** Requests refused by a rate limit, by `endpoint` (the limited step, e.g. authorize, device_authorization, token). */
  rateLimited: Counter<'endpoint'>;
  /** Times the store was found to have lost its data (its generation marker vanished). */
  storeDataLoss: Counter;
  /** Connections a listener refused because it had `maxConnections` open, by `role`. */
  connectionsRefused: Counter<'role'>;
  /**
   * Expiry of the certificates a server holds, as a Unix timestamp in seconds, by `role` (verifier,
   * proxy) and `certificate` (serving, client_ca, upstream_ca).
   */
  certificateExpiry: Gauge<'role' | 'certificate'>;
  /**
   * 1 when the last readiness check (`/readyz`, and every scrape of `/metrics`) found the token store
   * answering, 0 when it did not: flapping shows as changes of this gauge.
   */
  ready: Gauge;
  /** Sessions alive in the token store, counted at each scrape from the store's session index. */
  activeSessions: Gauge;
  /**
   * Requests at the impersonation proxy by `result`: forwarded, passthrough; refused before the
   * apiserver: missing, malformed, unknown, store_lost, expired, audience, rule, error (401), impersonation,
   * identity (403), bad_request (400), unavailable (503); upstream_error (502).
   */
  proxyRequests: Counter<'result'>;
  /** Proxy latency by `result`: from the request to the upstream's response headers (or the refusal). */
  proxyDuration: Histogram<'result'>;
  /** Upstream apiserver requests that failed below HTTP (connect, TLS, reset), by `kind` (request, upgrade). */
  proxyUpstreamErrors: Counter<'kind'>;
  /** Proxied requests and upgraded connections open right now, by `kind` (request, upgrade). */
  proxyOpenStreams: Gauge<'kind'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'kob_process_' });
  const registers = [registry];
  return {
    registry,
    reviews: new Counter({
      name: 'kob_token_reviews_total',
      help: 'TokenReview decisions by result and API version.',
      labelNames: ['result', 'version'],
      registers,
    }),
    reviewDuration: new Histogram({
      name: 'kob_token_review_duration_seconds',
      help: 'Time to answer a TokenReview, from request to response.',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    storeErrors: new Counter({
      name: 'kob_store_errors_total',
      help: 'Token store operations that failed.',
      labelNames: ['operation'],
      registers,
    }),
    logins: new Counter({
      name: 'kob_logins_total',
      help: 'Upstream logins by upstream and result.',
      labelNames: ['upstream', 'result'],
      registers,
    }),
    mints: new Counter({
      name: 'kob_tokens_minted_total',
      help: 'Access tokens minted by source.',
      labelNames: ['source'],
      registers,
    }),
    refreshes: new Counter({
      name: 'kob_refreshes_total',
      help: 'Refresh-token grants by result.',
      labelNames: ['result'],
      registers,
    }),
    revocations: new Counter({
      name: 'kob_revocations_total',
      help: 'Revocations by scope.',
      labelNames: ['scope'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'kob_rate_limited_total',
      help: 'Requests refused by a rate limit, by endpoint.',
      labelNames: ['endpoint'],
      registers,
    }),
    storeDataLoss: new Counter({
      name: 'kob_store_data_loss_total',
      help: 'Times the token store was found empty of its generation marker (data lost).',
      registers,
    }),
    connectionsRefused: new Counter({
      name: 'kob_connections_refused_total',
      help: 'Connections refused because the listener was at its connection limit, by role.',
      labelNames: ['role'],
      registers,
    }),
    certificateExpiry: new Gauge({
      name: 'kob_certificate_expiry_timestamp_seconds',
      help: 'Expiry (notAfter) of a certificate the server holds, as a Unix timestamp.',
      labelNames: ['role', 'certificate'],
      registers,
    }),
    ready: new Gauge({
      name: 'kob_ready',
      help: 'Whether the last readiness check found the token store answering (1) or not (0).',
      registers,
    }),
    activeSessions: new Gauge({
      name: 'kob_active_sessions',
      help: 'Sessions alive in the token store (every replica reports the same shared count).',
      registers,
    }),
    proxyRequests: new Counter({
      name: 'kob_proxy_requests_total',
      help: 'Requests at the impersonation proxy by result.',
      labelNames: ['result'],
      registers,
    }),
    proxyDuration: new Histogram({
      name: 'kob_proxy_request_duration_seconds',
      help: "Time from a proxied request to the upstream apiserver's response headers (or the refusal).",
      labelNames: ['result'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    proxyUpstreamErrors: new Counter({
      name: 'kob_proxy_upstream_errors_total',
      help: 'Upstream apiserver requests that failed below HTTP (connect, TLS, reset), by kind.',
      labelNames: ['kind'],
      registers,
    }),
    proxyOpenStreams: new Gauge({
      name: 'kob_proxy_open_streams',
      help: 'Proxied requests and upgraded connections open right now, by kind.',
      labelNames: ['kind'],
      registers,
    }),
  };
}
