import type { Clock } from '../core/clock.js';

/**
 * Whether a store-failure 503 should ask the apiserver to retry. The apiserver resends a 503 that
 * carries Retry-After (client-go's REST client, up to ten times per call, under the webhook's own
 * backoff) until its token cache cuts the lookup at 30 s; a 503 without it fails the request at once
 * and, like every non-2xx, is never cached (docs/design.md §3).
 *
 * Retrying rides out a short blip (a Sentinel failover) without a single error, but during a long
 * outage it holds every uncached kubectl call, and an apiserver request slot, for 30 s only to end
 * in Unauthorized anyway. So: while the store has been failing for at most `windowSeconds`, 503s
 * carry Retry-After; once it has failed continuously for longer, they do not; the first successful
 * store read closes the circuit. The outage starts at the first failed read a review saw (a quiet
 * verifier does not notice a store outage until a review asks).
 */
export class StoreOutageCircuit {
  private failingSince: number | undefined;
  private open = false;

  constructor(
    private readonly windowSeconds: number,
    private readonly clock: Clock,
    private readonly onChange: (open: boolean, failingForSeconds: number) => void = () => undefined,
  ) {}

  /** A store read failed (not a shed review: that never reached the store). */
  failed(): void {
    this.failingSince ??= this.clock.now();
  }

  /** A store read answered: the outage, if any, is over. */
  succeeded(): void {
    if (this.failingSince === undefined) return;
    const failingFor = this.clock.now() - this.failingSince;
    this.failingSince = undefined;
    if (this.open) {
      this.open = false;
      this.onChange(false, failingFor);
    }
  }

  /** True while a 503 should carry Retry-After: no outage, or one not longer than the window. */
  retryable(): boolean {
    if (this.failingSince === undefined) return true;
    const failingFor = this.clock.now() - this.failingSince;
    if (failingFor <= this.windowSeconds) return true;
    if (!this.open) {
      this.open = true;
      this.onChange(true, failingFor);
    }
    return false;
  }
}
