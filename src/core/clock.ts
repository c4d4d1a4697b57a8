/**
 * The one clock. Everything that needs "now" receives a Clock; tests hand in one they can move.
 * Time is epoch **seconds** (integers), as in JWT `exp`/`iat`.
 */
export interface Clock {
  /** Current time in whole epoch seconds. */
  now(): number;
}

export const systemClock: Clock = {
  now: () => Math.floor(Date.now() / 1000),
};

/** A clock for tests: starts where told and only moves when told. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start = 1_800_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(seconds: number): void {
    this.current += seconds;
  }

  set(epochSeconds: number): void {
    this.current = epochSeconds;
  }
}

/** RFC 3339 timestamp (UTC, second precision) for an epoch-seconds value, as Kubernetes writes them. */
export function toRfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
