import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../http/index.js';

/** Review outcomes that are not a decision on the token: the request itself was refused or failed. */
export type ReviewFailure = 'bad_request' | 'unavailable' | 'shed' | 'body_timeout';

/** Short version label: `v1` or `v1beta1` (`unknown` when the body did not say). */
export type VersionLabel = 'v1' | 'v1beta1' | 'unknown';

/**
 * Metric children resolved once per label pair instead of per request (prom-client hashes the label
 * set on every `inc`/`observe` otherwise): the review path is the hot path.
 */
export class ReviewInstruments {
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly durations = new Map<string, Histogram.Internal<'result'>>();
  private readonly storeErrors: Counter.Internal;

  constructor(private readonly metrics: Metrics) {
    this.storeErrors = metrics.storeErrors.labels({ operation: 'review' });
  }

  record(result: string, version: VersionLabel, seconds: number): void {
    const key = `${result}|${version}`;
    let counter = this.counters.get(key);
    if (!counter) {
      counter = this.metrics.reviews.labels({ result, version });
      this.counters.set(key, counter);
    }
    counter.inc();
    let duration = this.durations.get(result);
    if (!duration) {
      duration = this.metrics.reviewDuration.labels({ result });
      this.durations.set(result, duration);
    }
    duration.observe(seconds);
  }

  storeError(): void {
    this.storeErrors.inc();
  }
}
