import type { Counter, Gauge, Histogram } from 'prom-client';
import { audit, type Logger } from '../core/logger.js';
import type { Metrics } from '../http/index.js';
import type { ReviewResult } from '../verifier/index.js';

/**
 * The `result` label of the proxy's metrics and audit line: the verifier's denials (one decision for
 * both faces), plus what only a proxy can say.
 */
export type ProxyResult =
  | 'forwarded'
  | 'passthrough'
  | 'missing'
  | Exclude<ReviewResult, 'authenticated'>
  | 'impersonation'
  | 'identity'
  | 'bad_request'
  | 'unavailable'
  | 'upstream_error';

export type StreamKind = 'request' | 'upgrade';

/** What one audit line says about a proxied request. Never a token or a header value. */
export interface ProxyAuditFields {
  result: ProxyResult;
  method: string;
  /** Kubernetes-style verb: get, watch, create, update, patch, delete, connect (upgrades)… */
  verb: string;
  /** Path without the query string. */
  path: string;
  /** The status the client got (the upstream's, or the proxy's own refusal). */
  status: number;
  username?: string;
  sessionId?: string;
  client?: string;
  reason?: string;
}

/**
 * The one place a proxied request's outcome is recorded: a counter and a latency observation by
 * result, and one audit line. Metric children are resolved once per label (the proxy is a hot path).
 */
export class ProxyInstruments {
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly durations = new Map<string, Histogram.Internal<'result'>>();
  private readonly upstreamErrors: Record<StreamKind, Counter.Internal>;
  private readonly open: Record<StreamKind, Gauge.Internal<'kind'>>;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.upstreamErrors = {
      request: metrics.proxyUpstreamErrors.labels({ kind: 'request' }),
      upgrade: metrics.proxyUpstreamErrors.labels({ kind: 'upgrade' }),
    };
    this.open = {
      request: metrics.proxyOpenStreams.labels({ kind: 'request' }),
      upgrade: metrics.proxyOpenStreams.labels({ kind: 'upgrade' }),
    };
  }

  record(fields: ProxyAuditFields, seconds: number): void {
    const { result } = fields;
    let counter = this.counters.get(result);
    if (!counter) {
      counter = this.metrics.proxyRequests.labels({ result });
      this.counters.set(result, counter);
    }
    counter.inc();
    let duration = this.durations.get(result);
    if (!duration) {
      duration = this.metrics.proxyDuration.labels({ result });
      this.durations.set(result, duration);
    }
    duration.observe(seconds);
    audit(this.logger, 'proxy', { ...fields, latencyMs: Math.round(seconds * 1e6) / 1e3 });
  }

  upstreamError(kind: StreamKind): void {
    this.upstreamErrors[kind].inc();
  }

  opened(kind: StreamKind): void {
    this.open[kind].inc();
  }

  closed(kind: StreamKind): void {
    this.open[kind].dec();
  }
}
